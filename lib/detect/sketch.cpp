#include "detect/sketch.hpp"

#include <cmath>

namespace sg::sketch_detail {

namespace {

// 2^-r for every register value r (0 .. 64 - 4 + 1 = 61 and a margin).
constexpr std::array<double, 65> kInversePowers = [] {
    std::array<double, 65> t{};
    double v = 1.0;
    for (double& x : t) {
        x = v;
        v /= 2;
    }
    return t;
}();

// The bias correction alpha_m of Flajolet et al. for m registers.
double alpha(double m) {
    if (m == 16) return 0.673;
    if (m == 32) return 0.697;
    if (m == 64) return 0.709;
    return 0.7213 / (1.0 + 1.079 / m);
}

} // namespace

double hll_estimate(const uint8_t* registers, unsigned precision) {
    const size_t count = size_t(1) << precision;
    const double m = double(count);
    double sum = 0;
    size_t zeros = 0;
    for (size_t i = 0; i < count; ++i) {
        sum += kInversePowers[registers[i]];
        zeros += registers[i] == 0;
    }
    const double raw = alpha(m) * m * m / sum;
    // Small range: the raw estimate is biased up while many registers are
    // still empty; linear counting over the empty ones is accurate there.
    if (raw <= 2.5 * m && zeros > 0) return m * std::log(m / double(zeros));
    // No large-range correction: 64-bit hashes collide only near 2^64 items.
    return raw;
}

} // namespace sg::sketch_detail
