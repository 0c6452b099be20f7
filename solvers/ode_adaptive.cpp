// Coefficients of the embedded Runge-Kutta pairs, their dense-output weights, and name parsing
// for solvers/ode_adaptive.hpp. Sources:
//   bs3:    P. Bogacki, L. F. Shampine, Appl. Math. Lett. 2 (1989) 321-325; dense output is the
//           cubic Hermite interpolant on (y0, f0, y1, f1), which is 3rd order here.
//   dopri5: J. R. Dormand, P. J. Prince, J. Comput. Appl. Math. 6 (1980) 19-26, as in Hairer's
//           dopri5.f (CDOPRI), with Shampine's (1986) dense output of CONTD5 (order 4).
//   tsit5:  Ch. Tsitouras, Comput. Math. Appl. 62 (2011) 770-775, and its order-4 interpolant
//           (the 16-digit values used by OrdinaryDiffEq.jl).
//   dop853: Hairer's dop853.f (DP86CO, CONTD8): 12 stages + FSAL, error estimators of order 5
//           and 3, 3 extra stages for the order-7 dense output.
// The order tests in tests/solvers/test_ode_adaptive.cpp check every table.
#include "solvers/ode_adaptive.hpp"

#include <sstream>

namespace aeolus {

namespace {

// Row i of a, padded with zeros to i entries, from (column, value) pairs.
std::vector<double> row(int i, std::initializer_list<std::pair<int, double>> entries) {
  std::vector<double> r(i, 0.0);
  for (const auto& [j, v] : entries) r.at(j) = v;
  return r;
}

RkTableau make_bs3() {
  RkTableau t;
  t.method = RkMethod::bs3;
  t.order = 3;
  t.err_order = 2;
  t.dense_order = 3;
  t.stages = 4;
  t.fsal_after_accept = false;
  t.dense_stages = 0;
  t.c = {0.0, 0.5, 0.75, 1.0};
  t.a = {{}, {0.5}, {0.0, 0.75}, {2.0 / 9.0, 1.0 / 3.0, 4.0 / 9.0}};
  t.b = {2.0 / 9.0, 1.0 / 3.0, 4.0 / 9.0, 0.0};
  // b - b_hat, b_hat = (7/24, 1/4, 1/3, 1/8)
  t.e = {-5.0 / 72.0, 1.0 / 12.0, 1.0 / 9.0, -1.0 / 8.0};
  t.expo = 1.0 / 3.0;
  t.beta_coupling = 0.75;
  // Hairer's 0.04 for an order-4 estimator, scaled by 5 / (q + 1).
  t.beta_default = 0.2 / 3.0;
  t.hinit_order = 3;
  return t;
}

RkTableau make_dopri5() {
  RkTableau t;
  t.method = RkMethod::dopri5;
  t.order = 5;
  t.err_order = 4;
  t.dense_order = 4;
  t.stages = 7;
  t.fsal_after_accept = false;
  t.dense_stages = 0;
  t.c = {0.0, 0.2, 0.3, 0.8, 8.0 / 9.0, 1.0, 1.0};
  t.a = {{},
         {0.2},
         {3.0 / 40.0, 9.0 / 40.0},
         {44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0},
         {19372.0 / 6561.0, -25360.0 / 2187.0, 64448.0 / 6561.0, -212.0 / 729.0},
         {9017.0 / 3168.0, -355.0 / 33.0, 46732.0 / 5247.0, 49.0 / 176.0, -5103.0 / 18656.0},
         {35.0 / 384.0, 0.0, 500.0 / 1113.0, 125.0 / 192.0, -2187.0 / 6784.0, 11.0 / 84.0}};
  t.b = t.a[6];
  t.b.push_back(0.0);
  t.e = {71.0 / 57600.0,      0.0,          -71.0 / 16695.0, 71.0 / 1920.0,
         -17253.0 / 339200.0, 22.0 / 525.0, -1.0 / 40.0};
  t.expo = 0.2;
  t.beta_coupling = 0.75;
  t.beta_default = 0.04;
  t.hinit_order = 5;
  return t;
}

RkTableau make_tsit5() {
  RkTableau t;
  t.method = RkMethod::tsit5;
  t.order = 5;
  t.err_order = 4;
  t.dense_order = 4;
  t.stages = 7;
  t.fsal_after_accept = false;
  t.dense_stages = 0;
  t.c = {0.0, 0.161, 0.327, 0.9, 0.980025540904509685729810680793, 1.0, 1.0};
  t.a = {{},
         {0.161},
         {-0.008480655492356989, 0.335480655492357},
         {2.8971530571054935, -6.359448489975075, 4.3622954328695815},
         {5.325864828439257, -11.748883564062828, 7.4955393428898365, -0.09249506636175525},
         {5.86145544294642, -12.92096931784711, 8.159367898576159, -0.071584973281401,
          -0.028269050394068383},
         {0.09646076681806523, 0.01, 0.4798896504144996, 1.379008574103742, -3.290069515436081,
          2.324710524099774}};
  t.b = t.a[6];
  t.b.push_back(0.0);
  t.e = {0.00178001105222577714,
         0.0008164344596567469,
         -0.007880878010261995,
         0.1447110071732629,
         -0.5823571654525552,
         0.45808210592918697,
         -1.0 / 66.0};
  t.expo = 0.2;
  t.beta_coupling = 0.75;
  t.beta_default = 0.04;
  t.hinit_order = 5;
  return t;
}

RkTableau make_dop853() {
  RkTableau t;
  t.method = RkMethod::dop853;
  t.order = 8;
  t.err_order = 5;
  t.dense_order = 7;
  t.stages = 13;
  t.fsal_after_accept = true;
  t.dense_stages = 3;
  t.c = {0.0,
         0.526001519587677318785587544488e-01,
         0.789002279381515978178381316732e-01,
         0.118350341907227396726757197510e+00,
         0.281649658092772603273242802490e+00,
         0.333333333333333333333333333333e+00,
         0.25e+00,
         0.307692307692307692307692307692e+00,
         0.651282051282051282051282051282e+00,
         0.6e+00,
         0.857142857142857142857142857142e+00,
         1.0,
         1.0,
         0.1e+00,
         0.2e+00,
         0.777777777777777777777777777778e+00};
  t.a.resize(16);
  t.a[1] = row(1, {{0, 5.26001519587677318785587544488e-2}});
  t.a[2] =
      row(2, {{0, 1.97250569845378994544595329183e-2}, {1, 5.91751709536136983633785987549e-2}});
  t.a[3] =
      row(3, {{0, 2.95875854768068491816892993775e-2}, {2, 8.87627564304205475450678981324e-2}});
  t.a[4] = row(4, {{0, 2.41365134159266685502369798665e-1},
                   {2, -8.84549479328286085344864962717e-1},
                   {3, 9.24834003261792003115737966543e-1}});
  t.a[5] = row(5, {{0, 3.7037037037037037037037037037e-2},
                   {3, 1.70828608729473871279604482173e-1},
                   {4, 1.25467687566822425016691814123e-1}});
  t.a[6] = row(6, {{0, 3.7109375e-2},
                   {3, 1.70252211019544039314978060272e-1},
                   {4, 6.02165389804559606850219397283e-2},
                   {5, -1.7578125e-2}});
  t.a[7] = row(7, {{0, 3.70920001185047927108779319836e-2},
                   {3, 1.70383925712239993810214054705e-1},
                   {4, 1.07262030446373284651809199168e-1},
                   {5, -1.53194377486244017527936158236e-2},
                   {6, 8.27378916381402288758473766002e-3}});
  t.a[8] = row(8, {{0, 6.24110958716075717114429577812e-1},
                   {3, -3.36089262944694129406857109825e0},
                   {4, -8.68219346841726006818189891453e-1},
                   {5, 2.75920996994467083049415600797e1},
                   {6, 2.01540675504778934086186788979e1},
                   {7, -4.34898841810699588477366255144e1}});
  t.a[9] = row(9, {{0, 4.77662536438264365890433908527e-1},
                   {3, -2.48811461997166764192642586468e0},
                   {4, -5.90290826836842996371446475743e-1},
                   {5, 2.12300514481811942347288949897e1},
                   {6, 1.52792336328824235832596922938e1},
                   {7, -3.32882109689848629194453265587e1},
                   {8, -2.03312017085086261358222928593e-2}});
  t.a[10] = row(10, {{0, -9.3714243008598732571704021658e-1},
                     {3, 5.18637242884406370830023853209e0},
                     {4, 1.09143734899672957818500254654e0},
                     {5, -8.14978701074692612513997267357e0},
                     {6, -1.85200656599969598641566180701e1},
                     {7, 2.27394870993505042818970056734e1},
                     {8, 2.49360555267965238987089396762e0},
                     {9, -3.0467644718982195003823669022e0}});
  t.a[11] = row(11, {{0, 2.27331014751653820792359768449e0},
                     {3, -1.05344954667372501984066689879e1},
                     {4, -2.00087205822486249909675718444e0},
                     {5, -1.79589318631187989172765950534e1},
                     {6, 2.79488845294199600508499808837e1},
                     {7, -2.85899827713502369474065508674e0},
                     {8, -8.87285693353062954433549289258e0},
                     {9, 1.23605671757943030647266201528e1},
                     {10, 6.43392746015763530355970484046e-1}});
  t.b = row(13, {{0, 5.42937341165687622380535766363e-2},
                 {5, 4.45031289275240888144113950566e0},
                 {6, 1.89151789931450038304281599044e0},
                 {7, -5.8012039600105847814672114227e0},
                 {8, 3.1116436695781989440891606237e-1},
                 {9, -1.52160949662516078556178806805e-1},
                 {10, 2.01365400804030348374776537501e-1},
                 {11, 4.47106157277725905176885569043e-2}});
  t.a[12] = std::vector<double>(t.b.begin(), t.b.begin() + 12);
  t.a[13] = row(13, {{0, 5.61675022830479523392909219681e-2},
                     {6, 2.53500210216624811088794765333e-1},
                     {7, -2.46239037470802489917441475441e-1},
                     {8, -1.24191423263816360469010140626e-1},
                     {9, 1.5329179827876569731206322685e-1},
                     {10, 8.20105229563468988491666602057e-3},
                     {11, 7.56789766054569976138603589584e-3},
                     {12, -8.298e-3}});
  t.a[14] = row(14, {{0, 3.18346481635021405060768473261e-2},
                     {5, 2.83009096723667755288322961402e-2},
                     {6, 5.35419883074385676223797384372e-2},
                     {7, -5.49237485713909884646569340306e-2},
                     {10, -1.08347328697249322858509316994e-4},
                     {11, 3.82571090835658412954920192323e-4},
                     {12, -3.40465008687404560802977114492e-4},
                     {13, 1.41312443674632500278074618366e-1}});
  t.a[15] = row(15, {{0, -4.28896301583791923408573538692e-1},
                     {5, -4.69762141536116384314449447206e0},
                     {6, 7.68342119606259904184240953878e0},
                     {7, 4.06898981839711007970213554331e0},
                     {8, 3.56727187455281109270669543021e-1},
                     {12, -1.39902416515901462129418009734e-3},
                     {13, 2.9475147891527723389556272149e0},
                     {14, -9.15095847217987001081870187138e0}});
  // 5th-order estimator (ER in dop853.f) and b - bhh, bhh the 3rd-order weights on k1, k9, k12.
  t.e = row(13, {{0, 0.1312004499419488073250102996e-01},
                 {5, -0.1225156446376204440720569753e+01},
                 {6, -0.4957589496572501915214079952e+00},
                 {7, 0.1664377182454986536961530415e+01},
                 {8, -0.3503288487499736816886487290e+00},
                 {9, 0.3341791187130174790297318841e+00},
                 {10, 0.8192320648511571246570742613e-01},
                 {11, -0.2235530786388629525884427845e-01}});
  t.e3 = t.b;
  t.e3[0] -= 0.244094488188976377952755905512e+00;
  t.e3[8] -= 0.733846688281611857341361741547e+00;
  t.e3[11] -= 0.220588235294117647058823529412e-01;
  t.expo = 1.0 / 8.0;
  t.beta_coupling = 0.2;
  t.beta_default = 0.0;
  t.fac_min_default = 0.333;  // dop853.f's FAC1, FAC2
  t.fac_max_default = 6.0;
  t.hinit_order = 8;
  return t;
}

// dop853.f's D4..D7 rows over the 16 stages (CONTD8's polynomial in s, 1 - s).
struct Dop853Dense {
  double d[4][16];
};
const Dop853Dense& dop853_dense() {
  static const Dop853Dense dd = [] {
    Dop853Dense x{};
    const double d4[16] = {-0.84289382761090128651353491142e+01,
                           0,
                           0,
                           0,
                           0,
                           0.56671495351937776962531783590e+00,
                           -0.30689499459498916912797304727e+01,
                           0.23846676565120698287728149680e+01,
                           0.21170345824450282767155149946e+01,
                           -0.87139158377797299206789907490e+00,
                           0.22404374302607882758541771650e+01,
                           0.63157877876946881815570249290e+00,
                           -0.88990336451333310820698117400e-01,
                           0.18148505520854727256656404962e+02,
                           -0.91946323924783554000451984436e+01,
                           -0.44360363875948939664310572000e+01};
    const double d5[16] = {0.10427508642579134603413151009e+02,
                           0,
                           0,
                           0,
                           0,
                           0.24228349177525818288430175319e+03,
                           0.16520045171727028198505394887e+03,
                           -0.37454675472269020279518312152e+03,
                           -0.22113666853125306036270938578e+02,
                           0.77334326684722638389603898808e+01,
                           -0.30674084731089398182061213626e+02,
                           -0.93321305264302278729567221706e+01,
                           0.15697238121770843886131091075e+02,
                           -0.31139403219565177677282850411e+02,
                           -0.93529243588444783865713862664e+01,
                           0.35816841486394083752465898540e+02};
    const double d6[16] = {0.19985053242002433820987653617e+02,
                           0,
                           0,
                           0,
                           0,
                           -0.38703730874935176555105901742e+03,
                           -0.18917813819516756882830838328e+03,
                           0.52780815920542364900561016686e+03,
                           -0.11573902539959630126141871134e+02,
                           0.68812326946963000169666922661e+01,
                           -0.10006050966910838403183860980e+01,
                           0.77771377980534432092869265740e+00,
                           -0.27782057523535084065932004339e+01,
                           -0.60196695231264120758267380846e+02,
                           0.84320405506677161018159903784e+02,
                           0.11992291136182789328035130030e+02};
    const double d7[16] = {-0.25693933462703749003312586129e+02,
                           0,
                           0,
                           0,
                           0,
                           -0.15418974869023643374053993627e+03,
                           -0.23152937917604549567536039109e+03,
                           0.35763911791061412378285349910e+03,
                           0.93405324183624310003907691704e+02,
                           -0.37458323136451633156875139351e+02,
                           0.10409964950896230045147246184e+03,
                           0.29840293426660503123344363579e+02,
                           -0.43533456590011143754432175058e+02,
                           0.96324553959188282948394950600e+02,
                           -0.39177261675615439165231486172e+02,
                           -0.14972683625798562581422125276e+03};
    for (int j = 0; j < 16; ++j) {
      x.d[0][j] = d4[j];
      x.d[1][j] = d5[j];
      x.d[2][j] = d6[j];
      x.d[3][j] = d7[j];
    }
    return x;
  }();
  return dd;
}

// Shampine's dopri5 dense output (CONTD5's D1..D7, on k1, k3..k7).
constexpr double kDopri5D[7] = {-12715105075.0 / 11282082432.0,  0.0,
                                87487479700.0 / 32700410799.0,   -10690763975.0 / 1880347072.0,
                                701980252875.0 / 199316789632.0, -1453857185.0 / 822651844.0,
                                69997945.0 / 29380423.0};

}  // namespace

const RkTableau& rk_tableau(RkMethod m) {
  static const RkTableau bs3 = make_bs3();
  static const RkTableau dopri5 = make_dopri5();
  static const RkTableau tsit5 = make_tsit5();
  static const RkTableau dop853 = make_dop853();
  switch (m) {
    case RkMethod::bs3:
      return bs3;
    case RkMethod::dopri5:
      return dopri5;
    case RkMethod::tsit5:
      return tsit5;
    case RkMethod::dop853:
      return dop853;
  }
  throw ConfigError("rk_tableau: invalid RkMethod value " + std::to_string(static_cast<int>(m)));
}

int rk_dense_weights(const RkTableau& tab, double theta, double* w) {
  const double s = theta, s1 = 1.0 - theta;
  const int ns = tab.stages;
  if (tab.method == RkMethod::tsit5) {
    const double s2 = s * s;
    w[0] = -1.0530884977290216 * s * (s - 1.3299890189751412) *
           (s2 - 1.4364028541716351 * s + 0.7139816917074209);
    w[1] = 0.1017 * s2 * (s2 - 2.1966568338249754 * s + 1.2949852507374631);
    w[2] = 2.490627285651252793 * s2 * (s2 - 2.38535645472061657 * s + 1.57803468208092486);
    w[3] = -16.54810288924490272 * (s - 1.21712927295533244) * (s - 0.61620406037800089) * s2;
    w[4] = 47.37952196281928122 * (s - 1.203071208372362603) * (s - 0.658047292653547382) * s2;
    w[5] = -34.87065786149660974 * (s - 1.2) * (s - 0.666666666666666667) * s2;
    w[6] = 2.5 * (s - 1.0) * (s - 0.6) * s2;
    return 7;
  }
  // Hairer's form y0 + s (ydiff + s1 (bspl + s (ydiff - h k_fsal - bspl + s1 h D(s)))), with
  // ydiff = h sum b_j k_j and bspl = h k_0 - ydiff, written as weights on the stages:
  // the cubic Hermite interpolant plus s^2 s1^2 times the method's correction D.
  const double wb = s + s * s1 * (2.0 * s - 1.0);
  const int n = ns + tab.dense_stages;
  for (int j = 0; j < n; ++j) w[j] = j < ns ? wb * tab.b[j] : 0.0;
  w[0] += s * s1 * s1;
  w[ns - 1] -= s * s * s1;
  const double q = s * s * s1 * s1;
  if (tab.method == RkMethod::dopri5) {
    for (int j = 0; j < ns; ++j) w[j] += q * kDopri5D[j];
  } else if (tab.method == RkMethod::dop853) {
    const auto& d = dop853_dense().d;
    for (int j = 0; j < n; ++j)
      w[j] += q * (d[0][j] + s * (d[1][j] + s1 * (d[2][j] + s * d[3][j])));
  }
  return n;
}

RkMethod rk_method_from_name(const std::string& name, const std::string& key) {
  if (name == "bs3") return RkMethod::bs3;
  if (name == "dopri5") return RkMethod::dopri5;
  if (name == "tsit5") return RkMethod::tsit5;
  if (name == "dop853") return RkMethod::dop853;
  throw_unknown_choice(key, name, {"bs3", "dopri5", "tsit5", "dop853"});
}

std::string rk_method_name(RkMethod m) {
  switch (m) {
    case RkMethod::bs3:
      return "bs3";
    case RkMethod::dopri5:
      return "dopri5";
    case RkMethod::tsit5:
      return "tsit5";
    case RkMethod::dop853:
      return "dop853";
  }
  return "unknown(" + std::to_string(static_cast<int>(m)) + ")";
}

StepController step_controller_from_name(const std::string& name, const std::string& key) {
  if (name == "i") return StepController::integral;
  if (name == "pi") return StepController::pi;
  throw_unknown_choice(key, name, {"i", "pi"});
}

std::string step_controller_name(StepController c) {
  return c == StepController::integral ? "i" : "pi";
}

namespace detail {

std::string ode_where(RkMethod m, double t, double h, const OdeStats& s) {
  std::ostringstream os;
  os.precision(17);
  os << "t = " << t << ", h = " << h << " (" << rk_method_name(m) << ", " << s.steps
     << " steps: " << s.accepted << " accepted, " << s.rejected << " rejected; " << s.nfev
     << " evaluations)";
  return os.str();
}

void check_adaptive_params(const AdaptiveParams& p, const std::vector<double>& t_out) {
  auto bad = [](const std::string& what, double v, const std::string& want) {
    std::ostringstream os;
    os << "solve_adaptive: " << what << " = " << v << " is invalid; expected " << want;
    throw ConfigError(os.str());
  };
  rk_tableau(p.method);  // rejects an out-of-range enum value
  if (!(p.rtol >= 0.0)) bad("rtol", p.rtol, ">= 0");
  if (!(p.atol >= 0.0)) bad("atol", p.atol, ">= 0");
  if (p.rtol == 0.0 && p.atol == 0.0) bad("rtol + atol", 0.0, "> 0");
  if (!(p.h0 >= 0.0)) bad("h0", p.h0, ">= 0 (0: Hairer's initial-step rule)");
  if (!p.adaptive && !(p.h0 > 0.0)) bad("h0", p.h0, "> 0 when adaptive = false");
  if (!(p.hmax >= 0.0)) bad("hmax", p.hmax, ">= 0 (0: |t_end - t0|)");
  if (!(p.safety > 1e-4 && p.safety < 1.0)) bad("safety", p.safety, "in (1e-4, 1)");
  if (!(p.fac_min >= 0.0 && p.fac_min <= 1.0)) {
    bad("fac_min", p.fac_min, "in (0, 1] (0: the method's default)");
  }
  if (!(p.fac_max == 0.0 || p.fac_max >= 1.0)) {
    bad("fac_max", p.fac_max, ">= 1 (0: the method's default)");
  }
  if (!(p.beta <= 0.2)) bad("beta", p.beta, "<= 0.2 (< 0: the method's default)");
  if (p.max_steps <= 0) bad("max_steps", static_cast<double>(p.max_steps), "> 0");
  if (t_out.empty()) throw ConfigError("solve_adaptive: t_out is empty; expected t0 first");
  for (double v : t_out)
    if (!std::isfinite(v)) bad("an output time", v, "finite");
  const double dir = t_out.back() >= t_out.front() ? 1.0 : -1.0;
  for (std::size_t i = 1; i < t_out.size(); ++i)
    if ((t_out[i] - t_out[i - 1]) * dir < 0.0) {
      std::ostringstream os;
      os.precision(17);
      os << "solve_adaptive: t_out is not monotone: t_out[" << i - 1 << "] = " << t_out[i - 1]
         << ", t_out[" << i << "] = " << t_out[i];
      throw ConfigError(os.str());
    }
}

}  // namespace detail

}  // namespace aeolus
