import Imaging
import Robustness

/// Render: draws the newest analysis over a frame (`OverlayRenderer`), for the overlay video and the worst-frame
/// thumbnails. The newest analysis is carried over the frames that were not analysed; the CAM colour scale is the
/// clip's running maximum (`camNorm` "clip", no flicker) or each analysis's own ("frame").
struct RenderStage: Sendable {
    let renderer = OverlayRenderer()
    /// True for `camNorm` "frame".
    let perFrameScale: Bool
    /// The model input size, to place the patches.
    let inputWidth: Int, inputHeight: Int
    /// The analysis drawn now.
    private(set) var latest: FrameAnalysis? = nil
    /// The largest CAM value so far.
    private(set) var camMax: Float = 0

    init(camNorm: String, inputWidth: Int, inputHeight: Int) {
        perFrameScale = camNorm == "frame"
        self.inputWidth = inputWidth
        self.inputHeight = inputHeight
    }

    /// Makes `a` the analysis drawn from now on.
    mutating func note(_ a: FrameAnalysis) {
        latest = a
        camMax = max(camMax, a.cam.max() ?? 0)
    }

    /// `image` with the newest analysis drawn over it, or nil before the first analysis.
    func render(_ image: RGBImage) -> RGBImage? {
        guard let a = latest else { return nil }
        return renderer.render(image, analysis: a, camScale: perFrameScale ? (a.cam.max() ?? 1) : camMax,
                               inputWidth: inputWidth, inputHeight: inputHeight)
    }
}
