import Imaging
import MediaIO
import Robustness

extension AnalysisParameters {
    /// A fresh codec for the corruptions that need one (`h264_compression` runs libx264 through MediaIO), or nil when
    /// none of those is asked for. Each frame analyser gets its own: the codec keeps encoder state.
    var corruptionCodec: (any VideoCodecRoundTrip)? {
        corruptions.contains(where: \.needsCodec) ? H264RoundTrip() : nil
    }
}
