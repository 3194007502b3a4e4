import Foundation
import TensorCore

extension EngineConfiguration {
    /// The engine model-level tests run on: the portable kernels when the test run sets `VIGIL_KERNELS=avx2`
    /// (scripts/test runs those tests a second time so), else the calling thread's choice (the CPU's best unless a
    /// test picks one with `withKernelISA`). Read by the tests only; the library reads no environment.
    public static var test: EngineConfiguration {
        ProcessInfo.processInfo.environment["VIGIL_KERNELS"]?.lowercased() == "avx2" ? EngineConfiguration(kernels: .avx2) : .standard
    }
}
