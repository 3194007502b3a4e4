/// imagecorruptions' `plasma_fractal`: a `size x size` diamond-square height map in [0, 1] (wrapping at the
/// edges), each level's random displacement `wibble * U(-wibble, wibble)` with `wibble` starting at 100 and
/// divided by `decay` per level.
///
/// Layout: `map[y * size + x]`. `size` must be a power of two.
/// - Complexity: O(size^2).
func plasmaFractal(size: Int, decay: Double, rng: inout SplitMix64) -> [Double] {
    precondition(size > 0 && size & (size - 1) == 0, "plasmaFractal: size \(size) is not a power of two")
    var m = [Double](repeating: 0, count: size * size)
    var step = size
    var wibble = 100.0
    func at(_ y: Int, _ x: Int) -> Int { ((y % size + size) % size) * size + ((x % size + size) % size) }
    while step >= 2 {
        let h = step / 2
        // squares: the centre of each square gets the mean of its four corners.
        for y in stride(from: 0, to: size, by: step) {
            for x in stride(from: 0, to: size, by: step) {
                let s = m[at(y, x)] + m[at(y + step, x)] + m[at(y, x + step)] + m[at(y + step, x + step)]
                m[at(y + h, x + h)] = s / 4 + wibble * rng.uniform(-wibble, wibble)
            }
        }
        // diamonds: edge midpoints get the mean of the two corners and the two centres beside them.
        for y in stride(from: 0, to: size, by: step) {
            for x in stride(from: 0, to: size, by: step) {
                let top = m[at(y + h, x + h)] + m[at(y - h, x + h)] + m[at(y, x)] + m[at(y, x + step)]
                m[at(y, x + h)] = top / 4 + wibble * rng.uniform(-wibble, wibble)
                let left = m[at(y + h, x + h)] + m[at(y + h, x - h)] + m[at(y, x)] + m[at(y + step, x)]
                m[at(y + h, x)] = left / 4 + wibble * rng.uniform(-wibble, wibble)
            }
        }
        step /= 2
        wibble /= decay
    }
    let lo = m.min() ?? 0
    var hi = 0.0
    for i in m.indices { m[i] -= lo; hi = max(hi, m[i]) }
    if hi > 0 { for i in m.indices { m[i] /= hi } }
    return m
}

/// The smallest power of two at least `x` (1 for 0).
func nextPowerOfTwo(_ x: Int) -> Int { x <= 1 ? 1 : 1 << (Int.bitWidth - (x - 1).leadingZeroBitCount) }
