import Foundation
import TensorCore

extension EngineConfiguration {
    /// The engine model-level tests run on: the portable kernels when the test run sets `VIGIL_KERNELS=avx2`, NCHW
    /// throughout when it sets `VIGIL_LAYOUT=nchw` (scripts/test runs those tests again so), else the calling
    /// thread's choice (the CPU's best unless a test picks one with `withKernelISA`) in the blocked layout. Read by
    /// the tests only; the library reads no environment.
    public static var test: EngineConfiguration {
        let env = ProcessInfo.processInfo.environment
        var c = env["VIGIL_KERNELS"]?.lowercased() == "avx2" ? EngineConfiguration(kernels: .avx2) : .standard
        if env["VIGIL_LAYOUT"]?.lowercased() == "nchw" { c.layout = .nchw }
        return c
    }
}
