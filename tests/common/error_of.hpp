#pragma once
// The message of the exception of type E that fn() throws, or "" if it throws none (any other
// exception propagates and fails the test).
#include <string>

namespace aeolus::test {

template <class E, class Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const E& e) {
    return e.what();
  }
  return "";
}

}  // namespace aeolus::test
