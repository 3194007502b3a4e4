import Foundation

extension VideoSource.Options {
    /// About how many frames a source opened with these options selects from a clip described by `metadata`: the
    /// frames in the `start`/`duration` window (the container's frame count, else its duration times its frame rate),
    /// thinned by `every` or `targetFPS`, and at most `maxFrames`. What a progress display counts down.
    ///
    /// An estimate: containers may declare a count or a duration the stream does not keep to, and a variable
    /// frame rate makes the window's share of frames approximate.
    /// - Returns: nil when the clip declares neither a frame count nor a duration with a frame rate (a live feed)
    ///   and neither `maxFrames` nor `duration` bounds the count.
    public func expectedSelectedFrames(metadata: ClipMetadata) -> Int? {
        let rate = metadata.frameRate.value.flatMap { $0 > 0 && $0.isFinite ? $0 : nil }
        var window: Double? = metadata.frameCount.map(Double.init) ?? metadata.duration.flatMap { d in rate.map { d * $0 } }
        // Frames at or after `start`, and before `start + duration`.
        if let start, start > 0 {
            window = rate.flatMap { r in window.map { max(0, $0 - (start * r - 1e-6).rounded(.up)) } }
        }
        if let duration, let r = rate {
            let inDuration = max(0, (duration * r - 1e-6).rounded(.up))
            window = window.map { min($0, inDuration) } ?? inDuration
        }
        var selected: Double? = window.map { frames in
            if let fps = targetFPS, fps > 0, let r = rate {
                // One frame per step of 1/fps from the first frame's time, over the (frames - 1) / r seconds they span.
                return fps >= r || frames < 1 ? frames : ((frames - 1) / r * fps + 1e-6).rounded(.down) + 1
            }
            return (frames / Double(Swift.max(1, every))).rounded(.up)
        }
        if let m = maxFrames { selected = min(selected ?? Double(m), Double(m)) }
        return selected.map { Int($0) }
    }
}

extension VideoSource {
    /// About how many frames this source will select (see `Options.expectedSelectedFrames(metadata:)`).
    public var expectedSelectedFrames: Int? { options.expectedSelectedFrames(metadata: metadata) }
}
