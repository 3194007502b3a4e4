/// The JSON Schemas of what `vigil analyze` writes.
///
/// The same texts are committed in `scripts/schema/`; a test keeps each pair identical.
public enum ReportSchema {
    /// JSON Schema (draft 2020-12) of `report.json` version 1.0 (`--report-schema 1`: frames inline).
    public static let v1 = #"""
{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "vigil:report-v1.schema.json",
  "title": "Vigil report.json, schema version 1.0",
  "description": "What `vigil analyze` measured on one clip: provenance, one record per analysed frame, clip metrics, and the run's wall-clock timing. Everything except `timing` is byte-identical for identical inputs, seed and parameters. Probabilities, retentions and drops are fractions (0.5 means 50%). Times are seconds of presentation time.",
  "type": "object",
  "additionalProperties": false,
  "required": ["schemaVersion", "partial", "provenance", "frames", "summary", "timing"],
  "properties": {
    "schemaVersion": {"const": "1.0", "description": "Version of this schema; a reader should refuse a major version it does not know."},
    "partial": {"type": "boolean", "description": "True when the analysis stopped early (SIGINT/SIGTERM): the report covers only the frames analysed before it stopped."},
    "provenance": {"$ref": "#/$defs/provenance"},
    "frames": {
      "type": "array",
      "description": "One record per analysed frame, in time order.",
      "items": {"$ref": "#/$defs/frame"}
    },
    "summary": {"$ref": "#/$defs/summary"},
    "input": {
      "type": "object",
      "description": "What decoding found of the clip. complete is false when the input ended early (a stalled or dropped source, a read error, fewer frames than an MP4/MOV declares) or had damaged packets; vigil then exits 74.",
      "additionalProperties": false,
      "required": ["decodedFrames", "damagedPackets", "complete"],
      "properties": {
        "declaredFrames": {"type": "integer", "minimum": 0, "description": "Frames the container declares for the stream, when it does."},
        "decodedFrames": {"type": "integer", "minimum": 0, "description": "Frames decoded in the analysed window."},
        "damagedPackets": {"type": "integer", "minimum": 0, "description": "Packets or frames FFmpeg reported as damaged (skipped or concealed)."},
        "complete": {"type": "boolean", "description": "False when the input was incomplete or damaged."},
        "problem": {"type": "string", "description": "What was wrong, when something was."}
      }
    },
    "timing": {"$ref": "#/$defs/timing"}
  },
  "$defs": {
    "faithfulness": {"type": "object", "additionalProperties": false, "required": ["deletion", "insertion", "deletionAUC", "insertionAUC"], "description": "How faithful a map is on one frame (--faithfulness): deletion replaces the input's pixels by the mean colour in the order the map ranks them, most relevant first; insertion puts them back on a mean-colour image in that order.", "properties": {"deletion": {"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 1}, "minItems": 2, "description": "Deletion curve: The target's probability at evenly spaced fractions 0, 1/steps, ..., 1 of the pixels."}, "insertion": {"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 1}, "minItems": 2, "description": "Insertion curve: The target's probability at evenly spaced fractions 0, 1/steps, ..., 1 of the pixels."}, "deletionAUC": {"type": "number", "description": "Trapezoid area under the deletion curve over [0, 1]; lower is more faithful."}, "insertionAUC": {"type": "number", "description": "Trapezoid area under the insertion curve over [0, 1]; higher is more faithful."}, "camMultChange": {"type": "number", "description": "pytorch-grad-cam's CAM multiplication confidence change: the target's probability on input x map (min-max scaled, resized to the input) minus on the input. Absent for the random order."}}},
    "methodExplanation": {"type": "object", "additionalProperties": false, "required": ["method", "cam", "camWidth", "camHeight"], "description": "One CAM method's map of the frame.", "properties": {"method": {"type": "string", "description": "The --cam name: gradcam, gradcam++, xgradcam, layercam, layercam-fused, eigencam, scorecam or hirescam."}, "cam": {"type": "array", "items": {"type": "number", "minimum": 0}, "description": "The map at its layer's grid, row-major [camHeight, camWidth], after ReLU, not normalised (layercam-fused: at the finest fusion layer's grid)."}, "camWidth": {"type": "integer", "minimum": 1}, "camHeight": {"type": "integer", "minimum": 1}, "faithfulness": {"$ref": "#/$defs/faithfulness"}}},
    "meanWithInterval": {"type": "object", "additionalProperties": false, "required": ["mean", "interval"], "description": "A mean over frames with its 95% moving-block bootstrap interval.", "properties": {"mean": {"type": "number"}, "interval": {"$ref": "#/$defs/interval"}}},
    "faithfulnessSummary": {"type": "object", "additionalProperties": false, "required": ["method", "frames", "deletionAUC", "insertionAUC", "score"], "description": "One CAM method's faithfulness over the frames, or the random pixel order's (method random).", "properties": {"method": {"type": "string"}, "frames": {"type": "integer", "minimum": 0}, "deletionAUC": {"$ref": "#/$defs/meanWithInterval"}, "insertionAUC": {"$ref": "#/$defs/meanWithInterval"}, "score": {"$ref": "#/$defs/meanWithInterval", "description": "Insertion minus deletion AUC per frame: what methods are ranked by (higher is more faithful)."}, "camMultChange": {"$ref": "#/$defs/meanWithInterval", "description": "CAM multiplication confidence change (absent for the random order)."}}},
    "methodCurves": {"type": "object", "additionalProperties": false, "required": ["method", "deletion", "insertion"], "description": "A method's (or the random order's) curves on one frame.", "properties": {"method": {"type": "string"}, "deletion": {"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 1}, "minItems": 2, "description": "The target's probability at evenly spaced fractions 0, 1/steps, ..., 1 of the pixels."}, "insertion": {"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 1}, "minItems": 2, "description": "The target's probability at evenly spaced fractions 0, 1/steps, ..., 1 of the pixels."}}},
    "corruptionOutcome": {"type": "object", "additionalProperties": false, "description": "The frame's model input under one corruption at one severity.", "required": ["corruption", "severity", "top1", "survived", "targetProbability", "drop"], "properties": {"corruption": {"type": "string", "description": "imagecorruptions' name (gaussian_noise, ...), or low_light, rain, camera_shake, h264_compression."}, "severity": {"type": "integer", "minimum": 1, "maximum": 5}, "top1": {"type": "integer", "minimum": 0, "description": "The corrupted copy's top-1 class."}, "survived": {"type": "boolean", "description": "True when it is the clean top-1."}, "targetProbability": {"type": "number"}, "drop": {"type": "number", "description": "Clean target probability minus the corrupted copy's."}}},
    "corruptionSummary": {"type": "object", "additionalProperties": false, "description": "One corruption at one severity over the clip's frames.", "required": ["corruption", "severity", "frames", "retention", "retentionInterval", "meanDrop"], "properties": {"corruption": {"type": "string"}, "severity": {"type": "integer", "minimum": 1, "maximum": 5}, "frames": {"type": "integer", "minimum": 0}, "retention": {"type": "number", "minimum": 0, "maximum": 1, "description": "Share of frames whose clean top-1 survived."}, "retentionInterval": {"$ref": "#/$defs/interval", "description": "95% Wilson interval."}, "meanDrop": {"type": "number", "description": "Mean drop of the target's probability."}}},
    "interval": {
      "type": "object",
      "description": "A 95% interval.",
      "additionalProperties": false,
      "required": ["low", "high"],
      "properties": {
        "low": {"type": "number", "description": "Lower bound."},
        "high": {"type": "number", "description": "Upper bound."}
      }
    },
    "flips": {
      "type": "object",
      "description": "Labels that flipping patches produced, each with how many patches gave it.",
      "additionalProperties": {"type": "integer", "minimum": 1}
    },
    "classScore": {
      "type": "object",
      "description": "One class and its probability on the clean frame.",
      "additionalProperties": false,
      "required": ["index", "label", "probability"],
      "properties": {
        "index": {"type": "integer", "minimum": 0, "description": "Class index in the model's output."},
        "label": {"type": "string", "description": "Class label from the model's label file (or the index as text)."},
        "probability": {"type": "number", "description": "Softmax probability."}
      }
    },
    "patch": {
      "type": "object",
      "description": "A square occlusion patch in model-input pixel coordinates.",
      "additionalProperties": false,
      "required": ["x", "y", "side"],
      "properties": {
        "x": {"type": "integer", "minimum": 0, "description": "Left edge."},
        "y": {"type": "integer", "minimum": 0, "description": "Top edge."},
        "side": {"type": "integer", "minimum": 1, "description": "Side length."}
      }
    },
    "patchOutcome": {
      "type": "object",
      "description": "What one occluded copy of the frame gave.",
      "additionalProperties": false,
      "required": ["patch", "top1", "targetProbability", "drop", "flipped"],
      "properties": {
        "patch": {"$ref": "#/$defs/patch"},
        "top1": {"type": "integer", "minimum": 0, "description": "Top-1 class index with the patch applied."},
        "targetProbability": {"type": "number", "description": "Probability of the target class with the patch applied."},
        "drop": {"type": "number", "description": "Relative drop of the target's probability: (clean - occluded) / clean; negative when the patch raised it."},
        "flipped": {"type": "boolean", "description": "True when the patch changed the top-1 class."}
      }
    },
    "cropRect": {
      "type": "object",
      "description": "The region of the decoded frame the model saw, in frame pixels.",
      "additionalProperties": false,
      "required": ["x", "y", "width", "height"],
      "properties": {
        "x": {"type": "number", "description": "Left edge."},
        "y": {"type": "number", "description": "Top edge."},
        "width": {"type": "number", "description": "Width."},
        "height": {"type": "number", "description": "Height."}
      }
    },
    "frame": {
      "type": "object",
      "description": "Everything measured on one analysed frame (wall-clock timings are left out for determinism).",
      "additionalProperties": false,
      "required": ["frame", "pts", "top5", "target", "cam", "camWidth", "camHeight", "patches", "retention", "retentionInterval", "meanDrop", "worstPatch", "flippedTo", "sensitivity", "crop"],
      "properties": {
        "frame": {"type": "integer", "minimum": 0, "description": "Index of the frame among the clip's decoded frames (0-based)."},
        "pts": {"type": "number", "description": "Presentation time in seconds."},
        "top5": {"type": "array", "minItems": 1, "maxItems": 5, "items": {"$ref": "#/$defs/classScore"}, "description": "The five most probable classes on the clean frame, most probable first (fewer when the model has fewer classes)."},
        "target": {"$ref": "#/$defs/classScore", "description": "The class Grad-CAM and the probability drops refer to (the top-1 unless --target fixes one)."},
        "cam": {"type": "array", "items": {"type": "number"}, "description": "Grad-CAM at the CAM layer's resolution, row-major [camHeight, camWidth], ReLU applied, not normalised."},
        "camWidth": {"type": "integer", "minimum": 0, "description": "Width of the CAM grid."},
        "camHeight": {"type": "integer", "minimum": 0, "description": "Height of the CAM grid."},
        "patches": {"type": "array", "items": {"$ref": "#/$defs/patchOutcome"}, "description": "One outcome per occlusion patch, in the seeded sampling order."},
        "retention": {"type": "number", "minimum": 0, "maximum": 1, "description": "Share of patches that kept the clean top-1."},
        "retentionInterval": {"$ref": "#/$defs/interval", "description": "Wilson 95% interval of the retention."},
        "meanDrop": {"type": "number", "description": "Mean relative drop of the target's probability over the patches."},
        "worstPatch": {"type": "integer", "minimum": 0, "description": "Index into `patches` of the largest drop."},
        "flippedTo": {"$ref": "#/$defs/flips"},
        "sensitivity": {"type": "array", "items": {"type": ["number", "null"]}, "description": "Occlusion sensitivity at the CAM's resolution, row-major [camHeight, camWidth]: mean drop of the patches covering each cell; null where no patch reached."},
        "camAgreement": {"type": "number", "minimum": -1, "maximum": 1, "description": "Pearson correlation of Grad-CAM and occlusion sensitivity over the covered cells; absent when undefined."},
        "corruptions": {"type": "array", "items": {"$ref": "#/$defs/corruptionOutcome"}, "description": "The frame under each corruption and severity asked for (--corruptions), when any was."},
        "explanations": {"type": "array", "items": {"$ref": "#/$defs/methodExplanation"}, "description": "Every CAM method's map (--cam), the first being cam; absent when only Grad-CAM ran without --faithfulness."},
        "randomOrder": {"$ref": "#/$defs/faithfulness", "description": "Deletion and insertion in a seeded random pixel order: the baseline (--faithfulness)."},
        "crop": {"$ref": "#/$defs/cropRect"}
      }
    },
    "labelSegment": {
      "type": "object",
      "description": "A run of consecutive analysed frames with the same clean top-1.",
      "additionalProperties": false,
      "required": ["label", "classIndex", "startPTS", "endPTS", "frames"],
      "properties": {
        "label": {"type": "string", "description": "Top-1 label of the run."},
        "classIndex": {"type": "integer", "minimum": 0, "description": "Top-1 class index of the run."},
        "startPTS": {"type": "number", "description": "Time of the run's first analysed frame."},
        "endPTS": {"type": "number", "description": "Time of the run's last analysed frame."},
        "frames": {"type": "integer", "minimum": 1, "description": "Analysed frames in the run."}
      }
    },
    "worstFrame": {
      "type": "object",
      "description": "One of the least robust frames (lowest retention, then largest mean drop).",
      "additionalProperties": false,
      "required": ["frame", "pts", "retention", "meanDrop", "label", "flippedTo"],
      "properties": {
        "frame": {"type": "integer", "minimum": 0, "description": "Frame index."},
        "pts": {"type": "number", "description": "Presentation time in seconds."},
        "retention": {"type": "number", "minimum": 0, "maximum": 1, "description": "The frame's retention."},
        "meanDrop": {"type": "number", "description": "The frame's mean relative drop of the target's probability."},
        "label": {"type": "string", "description": "The frame's clean top-1 label."},
        "flippedTo": {"$ref": "#/$defs/flips"},
        "curves": {"type": "array", "items": {"$ref": "#/$defs/methodCurves"}, "description": "Each method's deletion and insertion curves, then the random order's (--faithfulness)."}
      }
    },
    "summary": {
      "type": "object",
      "description": "Clip-level metrics with their intervals.",
      "additionalProperties": false,
      "required": ["analysedFrames", "meanRetention", "retentionInterval", "bootstrapBlockLength", "pooledRetention", "pooledRetentionInterval", "framesWithFlip", "meanConfidenceDrop", "meanTop1Probability", "top1FlipRate", "labelTimeline", "worstFrames"],
      "properties": {
        "analysedFrames": {"type": "integer", "minimum": 0, "description": "Number of analysed frames."},
        "meanRetention": {"type": "number", "minimum": 0, "maximum": 1, "description": "Mean of the per-frame retentions."},
        "retentionInterval": {"$ref": "#/$defs/interval", "description": "95% moving-block bootstrap interval of the mean retention (neighbouring frames are not independent)."},
        "bootstrapBlockLength": {"type": "integer", "minimum": 1, "description": "Block length, in analysed frames, of the bootstrap."},
        "pooledRetention": {"type": "number", "minimum": 0, "maximum": 1, "description": "Share of all patches of all frames that kept their frame's top-1."},
        "pooledRetentionInterval": {"$ref": "#/$defs/interval", "description": "Wilson 95% interval of the pooled retention (treats patches as independent)."},
        "framesWithFlip": {"type": "number", "minimum": 0, "maximum": 1, "description": "Share of frames where at least one patch flipped the top-1."},
        "meanConfidenceDrop": {"type": "number", "description": "Mean over frames of the per-frame mean relative drop."},
        "meanTop1Probability": {"type": "number", "description": "Mean clean top-1 probability."},
        "top1FlipRate": {"type": "number", "minimum": 0, "maximum": 1, "description": "Share of consecutive analysed-frame pairs whose clean top-1 differs."},
        "camTemporalStability": {"type": "number", "minimum": -1, "maximum": 1, "description": "Mean Pearson correlation of consecutive Grad-CAM maps; absent with fewer than two usable pairs."},
        "camOcclusionAgreement": {"type": "number", "minimum": -1, "maximum": 1, "description": "Mean per-frame Pearson correlation of Grad-CAM and occlusion sensitivity; absent when no frame had one."},
        "corruptions": {"type": "array", "items": {"$ref": "#/$defs/corruptionSummary"}, "description": "Per corruption and severity, how often the clean top-1 survived (--corruptions)."},
        "faithfulness": {"type": "array", "items": {"$ref": "#/$defs/faithfulnessSummary"}, "description": "Per CAM method, mean faithfulness with intervals, most faithful first, then the random order (--faithfulness)."},
        "corruptionScore": {"type": "number", "minimum": 0, "maximum": 1, "description": "Mean of those retentions over every corruption and severity."},
        "occlusionWork": {"type": "object", "additionalProperties": false, "required": ["engine", "multiplyAddShare"], "description": "What the occluded copies cost against recomputing every copy in full; absent when no frame was occluded.", "properties": {"engine": {"type": "string", "enum": ["incremental", "full"], "description": "incremental (exact, recomputes only each patch's projective field) or full (--occlusion full, or a model that runs its copies one at a time)."}, "multiplyAddShare": {"type": "number", "minimum": 0, "description": "Multiply-adds the occluded copies took over those of a batched full recomputation of every copy (1 for full). Convolutional networks save where a patch's projective field is smaller than the map; models whose batch of 1 is fixed in their reshapes (the model zoo's ViT and Swin exports) run every copy in full."}}},
        "labelTimeline": {"type": "array", "items": {"$ref": "#/$defs/labelSegment"}, "description": "Runs of the clean top-1 label, in time order. At most 4000 runs: when a clip has more, adjacent runs are merged in pairs (the merged run takes the label with more frames), so the timeline stays bounded however long the clip."},
        "worstFrames": {"type": "array", "items": {"$ref": "#/$defs/worstFrame"}, "description": "The least robust frames, least robust first."},
        "failUnder": {"type": "number", "description": "The --fail-under threshold on the mean retention; absent when not given."},
        "passed": {"type": "boolean", "description": "Whether the mean retention met failUnder; absent when no threshold was given."}
      }
    },
    "clip": {
      "type": "object",
      "description": "What the container and decoder said about the clip.",
      "additionalProperties": false,
      "required": ["url", "container", "codec", "width", "height", "frameRate", "rotation", "pixelFormat"],
      "properties": {
        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$", "description": "SHA-256 of the clip file (local files only); a fleet run reuses a clip's results only for the same bytes."},
        "url": {"type": "string", "description": "The path or URL as given."},
        "container": {"type": "string", "description": "FFmpeg's container format name."},
        "codec": {"type": "string", "description": "Codec of the analysed video stream."},
        "profile": {"type": "string", "description": "Codec profile; absent when unknown."},
        "width": {"type": "integer", "minimum": 0, "description": "Display width in pixels (after rotation and sample aspect ratio)."},
        "height": {"type": "integer", "minimum": 0, "description": "Display height in pixels."},
        "frameRate": {"type": "string", "pattern": "^[0-9]+/[0-9]+$", "description": "Average frame rate as an exact fraction num/den."},
        "duration": {"type": "number", "description": "Duration in seconds; absent when unknown."},
        "frameCount": {"type": "integer", "minimum": 0, "description": "Frames in the stream; absent when unknown."},
        "bitRate": {"type": "integer", "minimum": 0, "description": "Bit rate in bits per second; absent when unknown."},
        "rotation": {"type": "integer", "description": "Display rotation in degrees."},
        "pixelFormat": {"type": "string", "description": "Decoder pixel format name."}
      }
    },
    "resize": {
      "type": "object",
      "description": "How frames become the model's input.",
      "additionalProperties": false,
      "required": ["policy", "cropFraction", "filter"],
      "properties": {
        "policy": {"type": "string", "description": "center-crop or stretch."},
        "cropFraction": {"type": "number", "description": "Share of the short side a centre crop keeps."},
        "filter": {"type": "string", "description": "bilinear, bicubic, area or nearest."}
      }
    },
    "model": {
      "type": "object",
      "description": "The model as it was used.",
      "additionalProperties": false,
      "required": ["path", "sha256", "inputSize", "camLayer", "outputKind", "mean", "std", "resize"],
      "properties": {
        "path": {"type": "string", "description": "Path of the ONNX file."},
        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$", "description": "SHA-256 of the ONNX file, lower-case hex."},
        "name": {"type": "string", "description": "Model name from its card."},
        "inputSize": {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 2, "maxItems": 2, "description": "[height, width] of the model input."},
        "camLayer": {"type": "string", "description": "Tensor whose activations Grad-CAM explains."},
        "camReshape": {"type": "string", "description": "How the Grad-CAM layer's values were reshaped to a [C,H,W] map: token layouts (class tokens dropped, the rest on the patch grid) and channels-last maps. Absent for [N,C,H,W] maps."},
        "inputChannels": {"type": "integer", "enum": [1, 3], "description": "Colour channels of the model input; 1 means the frame's luma (BT.601 or BT.709 as the clip says). Absent means 3."},
        "batch": {"type": "string", "enum": ["free", "freed-from-fixed", "fixed"], "description": "How the model's batch axis was handled: free in the file; fixed at 1 in the file and freed at load; fixed at 1 (batches run one item at a time, occlusion recomputes copies in full)."},
        "quantized": {"type": "boolean", "description": "True for a quantised (QDQ) model, run with integer semantics."},
        "outputKind": {"type": "string", "description": "logits (Vigil applies softmax) or probabilities."},
        "mean": {"type": "array", "items": {"type": "number"}, "description": "Per-channel mean in 0...255 pixel units."},
        "std": {"type": "array", "items": {"type": "number"}, "description": "Per-channel standard deviation in 0...255 pixel units."},
        "resize": {"$ref": "#/$defs/resize"},
        "labels": {"type": "string", "description": "Label file named by the model card; absent when there is none."}
      }
    },
    "parameters": {
      "type": "object",
      "description": "Every analysis parameter that changes the numbers.",
      "additionalProperties": false,
      "required": ["patches", "patchSizeLow", "patchSizeHigh", "fill", "seed", "target", "camNorm"],
      "properties": {
        "corruptions": {"type": "array", "items": {"type": "string"}, "description": "Camera-condition corruptions applied to each frame (--corruptions), when asked for."},
        "severities": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 5}, "description": "Their severities (--severity)."},
        "start": {"type": "number", "minimum": 0, "description": "Seconds into the clip the analysis started (--start or the manifest's start), when given."},
        "duration": {"type": "number", "exclusiveMinimum": 0, "description": "Seconds of the clip analysed (--duration or the manifest's duration), when given."},
        "patches": {"type": "integer", "minimum": 1, "description": "Occlusion patches per frame (--patches)."},
        "patchSizeLow": {"type": "number", "description": "Smallest patch side as a fraction of the input's short side (--patch-size)."},
        "patchSizeHigh": {"type": "number", "description": "Largest patch side; equal to patchSizeLow for a fixed size."},
        "fill": {"enum": ["gray", "black", "blur", "noise"], "description": "What hides the pixels under a patch (--fill)."},
        "seed": {"type": "integer", "minimum": 0, "description": "Seed of the patch placement and of the bootstrap (--seed)."},
        "target": {"type": "string", "description": "top1, or the fixed target class as given (--target)."},
        "camNorm": {"enum": ["clip", "frame"], "description": "Grad-CAM normalisation of the overlay (--cam-norm)."},
        "every": {"type": "integer", "minimum": 1, "description": "Analyse every Nth frame (--every); absent when not given."},
        "fps": {"type": "number", "exclusiveMinimum": 0, "description": "Analysis rate in frames per second (--fps); absent when not given."},
        "maxFrames": {"type": "integer", "minimum": 1, "description": "Most frames analysed (--max-frames); absent when not given."},
        "cams": {"type": "array", "items": {"type": "string"}, "minItems": 1, "description": "CAM methods (--cam) when other than gradcam alone; the first made the overlay."},
        "faithfulnessSteps": {"type": "integer", "minimum": 2, "description": "Points per deletion or insertion curve less one, when faithfulness was measured (--faithfulness)."},
        "failUnder": {"type": "number", "description": "Verdict threshold on the mean retention (--fail-under); absent when not given."}
      }
    },
    "provenance": {
      "type": "object",
      "description": "Where the report came from: enough to reproduce it.",
      "additionalProperties": false,
      "required": ["vigilVersion", "createdBy", "model", "parameters", "ffmpeg", "blas", "clip"],
      "properties": {
        "vigilVersion": {"type": "string", "description": "Version of the Vigil that wrote the report."},
        "createdBy": {"type": "string", "description": "The command line that produced the report."},
        "model": {"$ref": "#/$defs/model"},
        "parameters": {"$ref": "#/$defs/parameters"},
        "ffmpeg": {"type": "string", "description": "FFmpeg library versions."},
        "blas": {"type": "string", "description": "BLAS library and version."},
        "clip": {"$ref": "#/$defs/clip"}
      }
    },
    "timing": {
      "type": "object",
      "description": "Wall-clock figures of the run: the only part of the report that differs between identical runs.",
      "additionalProperties": false,
      "required": ["wallSeconds", "analysedFramesPerSecond", "meanMsPerStage"],
      "properties": {
        "wallSeconds": {"type": "number", "minimum": 0, "description": "Seconds from opening the clip to writing the report."},
        "analysedFramesPerSecond": {"type": "number", "minimum": 0, "description": "Analysed frames per wall-clock second."},
        "meanMsPerStage": {"type": "object", "additionalProperties": {"type": "number"}, "description": "Mean milliseconds per analysis stage, keyed by stage name."}
      }
    }
  }
}
"""#
    /// JSON Schema (draft 2020-12) of `report.json` version 2.0 (frames in `frames.jsonl`).
    public static let v2 = #"""
{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "vigil:report-v2.schema.json",
  "title": "Vigil report.json, schema version 2.0",
  "description": "What `vigil analyze` measured on one clip (or one window of a live feed): provenance, clip metrics, the per-frame series downsampled to at most 2000 points, and the run's wall-clock timing. The per-frame records are not in this file: they stream to `frames.jsonl` beside it (one `$defs/frame` object per line, in time order) and to `frames.csv`, so report.json stays small however long the clip. Everything except `timing` is byte-identical for identical inputs. Version 1.0 (report-v1.schema.json, `--report-schema 1`) holds the frames inline instead.",
  "type": "object",
  "additionalProperties": false,
  "required": [
    "schemaVersion",
    "partial",
    "provenance",
    "framesFile",
    "frameCount",
    "series",
    "summary",
    "timing"
  ],
  "properties": {
    "schemaVersion": {
      "const": "2.0",
      "description": "Version of this schema; a reader should refuse a major version it does not know."
    },
    "partial": {
      "type": "boolean",
      "description": "True when the analysis stopped early (SIGINT/SIGTERM): the report covers only the frames analysed before it stopped."
    },
    "provenance": {
      "$ref": "#/$defs/provenance"
    },
    "framesFile": {
      "type": "string",
      "description": "The file beside report.json holding one frame record (`$defs/frame`) per line, in time order."
    },
    "frameCount": {
      "type": "integer",
      "minimum": 0,
      "description": "Lines in framesFile: the analysed frames."
    },
    "series": {
      "$ref": "#/$defs/series"
    },
    "summary": {
      "$ref": "#/$defs/summary"
    },
    "input": {
      "type": "object",
      "description": "What decoding found of the clip. complete is false when the input ended early (a stalled or dropped source, a read error, fewer frames than an MP4/MOV declares) or had damaged packets; vigil then exits 74.",
      "additionalProperties": false,
      "required": [
        "decodedFrames",
        "damagedPackets",
        "complete"
      ],
      "properties": {
        "declaredFrames": {
          "type": "integer",
          "minimum": 0,
          "description": "Frames the container declares for the stream, when it does."
        },
        "decodedFrames": {
          "type": "integer",
          "minimum": 0,
          "description": "Frames decoded in the analysed window."
        },
        "damagedPackets": {
          "type": "integer",
          "minimum": 0,
          "description": "Packets or frames FFmpeg reported as damaged (skipped or concealed)."
        },
        "complete": {
          "type": "boolean",
          "description": "False when the input was incomplete or damaged."
        },
        "problem": {
          "type": "string",
          "description": "What was wrong, when something was."
        }
      }
    },
    "timing": {
      "$ref": "#/$defs/timing"
    }
  },
  "$defs": {
    "interval": {
      "type": "object",
      "description": "A 95% interval.",
      "additionalProperties": false,
      "required": [
        "low",
        "high"
      ],
      "properties": {
        "low": {
          "type": "number",
          "description": "Lower bound."
        },
        "high": {
          "type": "number",
          "description": "Upper bound."
        }
      }
    },
    "flips": {
      "type": "object",
      "description": "Labels that flipping patches produced, each with how many patches gave it.",
      "additionalProperties": {
        "type": "integer",
        "minimum": 1
      }
    },
    "classScore": {
      "type": "object",
      "description": "One class and its probability on the clean frame.",
      "additionalProperties": false,
      "required": [
        "index",
        "label",
        "probability"
      ],
      "properties": {
        "index": {
          "type": "integer",
          "minimum": 0,
          "description": "Class index in the model's output."
        },
        "label": {
          "type": "string",
          "description": "Class label from the model's label file (or the index as text)."
        },
        "probability": {
          "type": "number",
          "description": "Softmax probability."
        }
      }
    },
    "patch": {
      "type": "object",
      "description": "A square occlusion patch in model-input pixel coordinates.",
      "additionalProperties": false,
      "required": [
        "x",
        "y",
        "side"
      ],
      "properties": {
        "x": {
          "type": "integer",
          "minimum": 0,
          "description": "Left edge."
        },
        "y": {
          "type": "integer",
          "minimum": 0,
          "description": "Top edge."
        },
        "side": {
          "type": "integer",
          "minimum": 1,
          "description": "Side length."
        }
      }
    },
    "patchOutcome": {
      "type": "object",
      "description": "What one occluded copy of the frame gave.",
      "additionalProperties": false,
      "required": [
        "patch",
        "top1",
        "targetProbability",
        "drop",
        "flipped"
      ],
      "properties": {
        "patch": {
          "$ref": "#/$defs/patch"
        },
        "top1": {
          "type": "integer",
          "minimum": 0,
          "description": "Top-1 class index with the patch applied."
        },
        "targetProbability": {
          "type": "number",
          "description": "Probability of the target class with the patch applied."
        },
        "drop": {
          "type": "number",
          "description": "Relative drop of the target's probability: (clean - occluded) / clean; negative when the patch raised it."
        },
        "flipped": {
          "type": "boolean",
          "description": "True when the patch changed the top-1 class."
        }
      }
    },
    "cropRect": {
      "type": "object",
      "description": "The region of the decoded frame the model saw, in frame pixels.",
      "additionalProperties": false,
      "required": [
        "x",
        "y",
        "width",
        "height"
      ],
      "properties": {
        "x": {
          "type": "number",
          "description": "Left edge."
        },
        "y": {
          "type": "number",
          "description": "Top edge."
        },
        "width": {
          "type": "number",
          "description": "Width."
        },
        "height": {
          "type": "number",
          "description": "Height."
        }
      }
    },
    "frame": {
      "type": "object",
      "description": "Everything measured on one analysed frame (wall-clock timings are left out for determinism).",
      "additionalProperties": false,
      "required": [
        "frame",
        "pts",
        "top5",
        "target",
        "cam",
        "camWidth",
        "camHeight",
        "patches",
        "retention",
        "retentionInterval",
        "meanDrop",
        "worstPatch",
        "flippedTo",
        "sensitivity",
        "crop"
      ],
      "properties": {
        "frame": {
          "type": "integer",
          "minimum": 0,
          "description": "Index of the frame among the clip's decoded frames (0-based)."
        },
        "pts": {
          "type": "number",
          "description": "Presentation time in seconds."
        },
        "top5": {
          "type": "array",
          "minItems": 1,
          "maxItems": 5,
          "items": {
            "$ref": "#/$defs/classScore"
          },
          "description": "The five most probable classes on the clean frame, most probable first (fewer when the model has fewer classes)."
        },
        "target": {
          "$ref": "#/$defs/classScore",
          "description": "The class Grad-CAM and the probability drops refer to (the top-1 unless --target fixes one)."
        },
        "cam": {
          "type": "array",
          "items": {
            "type": "number"
          },
          "description": "Grad-CAM at the CAM layer's resolution, row-major [camHeight, camWidth], ReLU applied, not normalised."
        },
        "camWidth": {
          "type": "integer",
          "minimum": 0,
          "description": "Width of the CAM grid."
        },
        "camHeight": {
          "type": "integer",
          "minimum": 0,
          "description": "Height of the CAM grid."
        },
        "patches": {
          "type": "array",
          "items": {
            "$ref": "#/$defs/patchOutcome"
          },
          "description": "One outcome per occlusion patch, in the seeded sampling order."
        },
        "retention": {
          "type": "number",
          "minimum": 0,
          "maximum": 1,
          "description": "Share of patches that kept the clean top-1."
        },
        "retentionInterval": {
          "$ref": "#/$defs/interval",
          "description": "Wilson 95% interval of the retention."
        },
        "meanDrop": {
          "type": "number",
          "description": "Mean relative drop of the target's probability over the patches."
        },
        "worstPatch": {
          "type": "integer",
          "minimum": 0,
          "description": "Index into `patches` of the largest drop."
        },
        "flippedTo": {
          "$ref": "#/$defs/flips"
        },
        "sensitivity": {
          "type": "array",
          "items": {
            "type": [
              "number",
              "null"
            ]
          },
          "description": "Occlusion sensitivity at the CAM's resolution, row-major [camHeight, camWidth]: mean drop of the patches covering each cell; null where no patch reached."
        },
        "camAgreement": {
          "type": "number",
          "minimum": -1,
          "maximum": 1,
          "description": "Pearson correlation of Grad-CAM and occlusion sensitivity over the covered cells; absent when undefined."
        },
        "crop": {
          "$ref": "#/$defs/cropRect"
        },
        "corruptions": {
          "type": "array",
          "items": {
            "$ref": "#/$defs/corruptionOutcome"
          },
          "description": "The frame under each corruption and severity asked for (--corruptions), when any was."
        },
        "explanations": {
          "type": "array",
          "items": {
            "$ref": "#/$defs/methodExplanation"
          },
          "description": "Every CAM method's map (--cam), the first being cam; absent when only Grad-CAM ran without --faithfulness."
        },
        "randomOrder": {
          "$ref": "#/$defs/faithfulness",
          "description": "Deletion and insertion in a seeded random pixel order: the baseline (--faithfulness)."
        }
      }
    },
    "labelSegment": {
      "type": "object",
      "description": "A run of consecutive analysed frames with the same clean top-1.",
      "additionalProperties": false,
      "required": [
        "label",
        "classIndex",
        "startPTS",
        "endPTS",
        "frames"
      ],
      "properties": {
        "label": {
          "type": "string",
          "description": "Top-1 label of the run."
        },
        "classIndex": {
          "type": "integer",
          "minimum": 0,
          "description": "Top-1 class index of the run."
        },
        "startPTS": {
          "type": "number",
          "description": "Time of the run's first analysed frame."
        },
        "endPTS": {
          "type": "number",
          "description": "Time of the run's last analysed frame."
        },
        "frames": {
          "type": "integer",
          "minimum": 1,
          "description": "Analysed frames in the run."
        }
      }
    },
    "worstFrame": {
      "type": "object",
      "description": "One of the least robust frames (lowest retention, then largest mean drop).",
      "additionalProperties": false,
      "required": [
        "frame",
        "pts",
        "retention",
        "meanDrop",
        "label",
        "flippedTo"
      ],
      "properties": {
        "frame": {
          "type": "integer",
          "minimum": 0,
          "description": "Frame index."
        },
        "pts": {
          "type": "number",
          "description": "Presentation time in seconds."
        },
        "retention": {
          "type": "number",
          "minimum": 0,
          "maximum": 1,
          "description": "The frame's retention."
        },
        "meanDrop": {
          "type": "number",
          "description": "The frame's mean relative drop of the target's probability."
        },
        "label": {
          "type": "string",
          "description": "The frame's clean top-1 label."
        },
        "flippedTo": {
          "$ref": "#/$defs/flips"
        },
        "curves": {
          "type": "array",
          "items": {
            "$ref": "#/$defs/methodCurves"
          },
          "description": "Each method's deletion and insertion curves, then the random order's (--faithfulness)."
        }
      }
    },
    "summary": {
      "type": "object",
      "description": "Clip-level metrics with their intervals.",
      "additionalProperties": false,
      "required": [
        "analysedFrames",
        "meanRetention",
        "retentionInterval",
        "bootstrapBlockLength",
        "pooledRetention",
        "pooledRetentionInterval",
        "framesWithFlip",
        "meanConfidenceDrop",
        "meanTop1Probability",
        "top1FlipRate",
        "labelTimeline",
        "worstFrames"
      ],
      "properties": {
        "analysedFrames": {
          "type": "integer",
          "minimum": 0,
          "description": "Number of analysed frames."
        },
        "meanRetention": {
          "type": "number",
          "minimum": 0,
          "maximum": 1,
          "description": "Mean of the per-frame retentions."
        },
        "retentionInterval": {
          "$ref": "#/$defs/interval",
          "description": "95% moving-block bootstrap interval of the mean retention (neighbouring frames are not independent)."
        },
        "bootstrapBlockLength": {
          "type": "integer",
          "minimum": 1,
          "description": "Block length, in analysed frames, of the bootstrap."
        },
        "pooledRetention": {
          "type": "number",
          "minimum": 0,
          "maximum": 1,
          "description": "Share of all patches of all frames that kept their frame's top-1."
        },
        "pooledRetentionInterval": {
          "$ref": "#/$defs/interval",
          "description": "Wilson 95% interval of the pooled retention (treats patches as independent)."
        },
        "framesWithFlip": {
          "type": "number",
          "minimum": 0,
          "maximum": 1,
          "description": "Share of frames where at least one patch flipped the top-1."
        },
        "meanConfidenceDrop": {
          "type": "number",
          "description": "Mean over frames of the per-frame mean relative drop."
        },
        "meanTop1Probability": {
          "type": "number",
          "description": "Mean clean top-1 probability."
        },
        "top1FlipRate": {
          "type": "number",
          "minimum": 0,
          "maximum": 1,
          "description": "Share of consecutive analysed-frame pairs whose clean top-1 differs."
        },
        "camTemporalStability": {
          "type": "number",
          "minimum": -1,
          "maximum": 1,
          "description": "Mean Pearson correlation of consecutive Grad-CAM maps; absent with fewer than two usable pairs."
        },
        "camOcclusionAgreement": {
          "type": "number",
          "minimum": -1,
          "maximum": 1,
          "description": "Mean per-frame Pearson correlation of Grad-CAM and occlusion sensitivity; absent when no frame had one."
        },
        "labelTimeline": {
          "type": "array",
          "items": {
            "$ref": "#/$defs/labelSegment"
          },
          "description": "Runs of the clean top-1 label, in time order. At most 4000 runs: when a clip has more, adjacent runs are merged in pairs (the merged run takes the label with more frames), so the timeline stays bounded however long the clip."
        },
        "worstFrames": {
          "type": "array",
          "items": {
            "$ref": "#/$defs/worstFrame"
          },
          "description": "The least robust frames, least robust first."
        },
        "failUnder": {
          "type": "number",
          "description": "The --fail-under threshold on the mean retention; absent when not given."
        },
        "passed": {
          "type": "boolean",
          "description": "Whether the mean retention met failUnder; absent when no threshold was given."
        },
        "corruptions": {
          "type": "array",
          "items": {
            "$ref": "#/$defs/corruptionSummary"
          },
          "description": "Per corruption and severity, how often the clean top-1 survived (--corruptions)."
        },
        "corruptionScore": {
          "type": "number",
          "minimum": 0,
          "maximum": 1,
          "description": "Mean of those retentions over every corruption and severity."
        },
        "faithfulness": {
          "type": "array",
          "items": {
            "$ref": "#/$defs/faithfulnessSummary"
          },
          "description": "Per CAM method, mean faithfulness with intervals, most faithful first, then the random order (--faithfulness)."
        },
        "occlusionWork": {
          "type": "object",
          "additionalProperties": false,
          "required": [
            "engine",
            "multiplyAddShare"
          ],
          "description": "What the occluded copies cost against recomputing every copy in full; absent when no frame was occluded.",
          "properties": {
            "engine": {
              "type": "string",
              "enum": [
                "incremental",
                "full"
              ],
              "description": "incremental (exact, recomputes only each patch's projective field) or full (--occlusion full, or a model that runs its copies one at a time)."
            },
            "multiplyAddShare": {
              "type": "number",
              "minimum": 0,
              "description": "Multiply-adds the occluded copies took over those of a batched full recomputation of every copy (1 for full). Convolutional networks save where a patch's projective field is smaller than the map; models whose batch of 1 is fixed in their reshapes (the model zoo's ViT and Swin exports) run every copy in full."
            }
          }
        }
      }
    },
    "clip": {
      "type": "object",
      "description": "What the container and decoder said about the clip.",
      "additionalProperties": false,
      "required": [
        "url",
        "container",
        "codec",
        "width",
        "height",
        "frameRate",
        "rotation",
        "pixelFormat"
      ],
      "properties": {
        "url": {
          "type": "string",
          "description": "The path or URL as given."
        },
        "container": {
          "type": "string",
          "description": "FFmpeg's container format name."
        },
        "codec": {
          "type": "string",
          "description": "Codec of the analysed video stream."
        },
        "profile": {
          "type": "string",
          "description": "Codec profile; absent when unknown."
        },
        "width": {
          "type": "integer",
          "minimum": 0,
          "description": "Display width in pixels (after rotation and sample aspect ratio)."
        },
        "height": {
          "type": "integer",
          "minimum": 0,
          "description": "Display height in pixels."
        },
        "frameRate": {
          "type": "string",
          "pattern": "^[0-9]+/[0-9]+$",
          "description": "Average frame rate as an exact fraction num/den."
        },
        "duration": {
          "type": "number",
          "description": "Duration in seconds; absent when unknown."
        },
        "frameCount": {
          "type": "integer",
          "minimum": 0,
          "description": "Frames in the stream; absent when unknown."
        },
        "bitRate": {
          "type": "integer",
          "minimum": 0,
          "description": "Bit rate in bits per second; absent when unknown."
        },
        "rotation": {
          "type": "integer",
          "description": "Display rotation in degrees."
        },
        "pixelFormat": {
          "type": "string",
          "description": "Decoder pixel format name."
        },
        "sha256": {
          "type": "string",
          "pattern": "^[0-9a-f]{64}$",
          "description": "SHA-256 of the clip file (local files only); a fleet run reuses a clip's results only for the same bytes."
        }
      }
    },
    "resize": {
      "type": "object",
      "description": "How frames become the model's input.",
      "additionalProperties": false,
      "required": [
        "policy",
        "cropFraction",
        "filter"
      ],
      "properties": {
        "policy": {
          "type": "string",
          "description": "center-crop or stretch."
        },
        "cropFraction": {
          "type": "number",
          "description": "Share of the short side a centre crop keeps."
        },
        "filter": {
          "type": "string",
          "description": "bilinear, bicubic, area or nearest."
        }
      }
    },
    "model": {
      "type": "object",
      "description": "The model as it was used.",
      "additionalProperties": false,
      "required": [
        "path",
        "sha256",
        "inputSize",
        "camLayer",
        "outputKind",
        "mean",
        "std",
        "resize"
      ],
      "properties": {
        "path": {
          "type": "string",
          "description": "Path of the ONNX file."
        },
        "sha256": {
          "type": "string",
          "pattern": "^[0-9a-f]{64}$",
          "description": "SHA-256 of the ONNX file, lower-case hex."
        },
        "name": {
          "type": "string",
          "description": "Model name from its card."
        },
        "inputSize": {
          "type": "array",
          "items": {
            "type": "integer",
            "minimum": 1
          },
          "minItems": 2,
          "maxItems": 2,
          "description": "[height, width] of the model input."
        },
        "camLayer": {
          "type": "string",
          "description": "Tensor whose activations Grad-CAM explains."
        },
        "camReshape": {
          "type": "string",
          "description": "How the Grad-CAM layer's values were reshaped to a [C,H,W] map: token layouts (class tokens dropped, the rest on the patch grid) and channels-last maps. Absent for [N,C,H,W] maps."
        },
        "inputChannels": {
          "type": "integer",
          "enum": [
            1,
            3
          ],
          "description": "Colour channels of the model input; 1 means the frame's luma (BT.601 or BT.709 as the clip says). Absent means 3."
        },
        "batch": {
          "type": "string",
          "enum": [
            "free",
            "freed-from-fixed",
            "fixed"
          ],
          "description": "How the model's batch axis was handled: free in the file; fixed at 1 in the file and freed at load; fixed at 1 (batches run one item at a time, occlusion recomputes copies in full)."
        },
        "quantized": {
          "type": "boolean",
          "description": "True for a quantised (QDQ) model, run with integer semantics."
        },
        "outputKind": {
          "type": "string",
          "description": "logits (Vigil applies softmax) or probabilities."
        },
        "mean": {
          "type": "array",
          "items": {
            "type": "number"
          },
          "description": "Per-channel mean in 0...255 pixel units."
        },
        "std": {
          "type": "array",
          "items": {
            "type": "number"
          },
          "description": "Per-channel standard deviation in 0...255 pixel units."
        },
        "resize": {
          "$ref": "#/$defs/resize"
        },
        "labels": {
          "type": "string",
          "description": "Label file named by the model card; absent when there is none."
        }
      }
    },
    "parameters": {
      "type": "object",
      "description": "Every analysis parameter that changes the numbers.",
      "additionalProperties": false,
      "required": [
        "patches",
        "patchSizeLow",
        "patchSizeHigh",
        "fill",
        "seed",
        "target",
        "camNorm"
      ],
      "properties": {
        "patches": {
          "type": "integer",
          "minimum": 1,
          "description": "Occlusion patches per frame (--patches)."
        },
        "patchSizeLow": {
          "type": "number",
          "description": "Smallest patch side as a fraction of the input's short side (--patch-size)."
        },
        "patchSizeHigh": {
          "type": "number",
          "description": "Largest patch side; equal to patchSizeLow for a fixed size."
        },
        "fill": {
          "enum": [
            "gray",
            "black",
            "blur",
            "noise"
          ],
          "description": "What hides the pixels under a patch (--fill)."
        },
        "seed": {
          "type": "integer",
          "minimum": 0,
          "description": "Seed of the patch placement and of the bootstrap (--seed)."
        },
        "target": {
          "type": "string",
          "description": "top1, or the fixed target class as given (--target)."
        },
        "camNorm": {
          "enum": [
            "clip",
            "frame"
          ],
          "description": "Grad-CAM normalisation of the overlay (--cam-norm)."
        },
        "every": {
          "type": "integer",
          "minimum": 1,
          "description": "Analyse every Nth frame (--every); absent when not given."
        },
        "fps": {
          "type": "number",
          "exclusiveMinimum": 0,
          "description": "Analysis rate in frames per second (--fps); absent when not given."
        },
        "maxFrames": {
          "type": "integer",
          "minimum": 1,
          "description": "Most frames analysed (--max-frames); absent when not given."
        },
        "failUnder": {
          "type": "number",
          "description": "Verdict threshold on the mean retention (--fail-under); absent when not given."
        },
        "start": {
          "type": "number",
          "minimum": 0,
          "description": "Seconds into the clip the analysis started (--start or the manifest's start), when given."
        },
        "duration": {
          "type": "number",
          "exclusiveMinimum": 0,
          "description": "Seconds of the clip analysed (--duration or the manifest's duration), when given."
        },
        "corruptions": {
          "type": "array",
          "items": {
            "type": "string"
          },
          "description": "Camera-condition corruptions applied to each frame (--corruptions), when asked for."
        },
        "severities": {
          "type": "array",
          "items": {
            "type": "integer",
            "minimum": 1,
            "maximum": 5
          },
          "description": "Their severities (--severity)."
        },
        "cams": {
          "type": "array",
          "items": {
            "type": "string"
          },
          "minItems": 1,
          "description": "CAM methods (--cam) when other than gradcam alone; the first made the overlay."
        },
        "faithfulnessSteps": {
          "type": "integer",
          "minimum": 2,
          "description": "Points per deletion or insertion curve less one, when faithfulness was measured (--faithfulness)."
        }
      }
    },
    "provenance": {
      "type": "object",
      "description": "Where the report came from: enough to reproduce it.",
      "additionalProperties": false,
      "required": [
        "vigilVersion",
        "createdBy",
        "model",
        "parameters",
        "ffmpeg",
        "blas",
        "clip"
      ],
      "properties": {
        "vigilVersion": {
          "type": "string",
          "description": "Version of the Vigil that wrote the report."
        },
        "createdBy": {
          "type": "string",
          "description": "The command line that produced the report."
        },
        "model": {
          "$ref": "#/$defs/model"
        },
        "parameters": {
          "$ref": "#/$defs/parameters"
        },
        "ffmpeg": {
          "type": "string",
          "description": "FFmpeg library versions."
        },
        "blas": {
          "type": "string",
          "description": "BLAS library and version."
        },
        "clip": {
          "$ref": "#/$defs/clip"
        }
      }
    },
    "timing": {
      "type": "object",
      "description": "Wall-clock figures of the run: the only part of the report that differs between identical runs.",
      "additionalProperties": false,
      "required": [
        "wallSeconds",
        "analysedFramesPerSecond",
        "meanMsPerStage"
      ],
      "properties": {
        "wallSeconds": {
          "type": "number",
          "minimum": 0,
          "description": "Seconds from opening the clip to writing the report."
        },
        "analysedFramesPerSecond": {
          "type": "number",
          "minimum": 0,
          "description": "Analysed frames per wall-clock second."
        },
        "meanMsPerStage": {
          "type": "object",
          "additionalProperties": {
            "type": "number"
          },
          "description": "Mean milliseconds per analysis stage, keyed by stage name."
        }
      }
    },
    "series": {
      "type": "object",
      "additionalProperties": false,
      "description": "The per-frame values over time, consecutive frames averaged in buckets of bucketFrames so that at most 2000 points remain (the points the HTML charts draw).",
      "required": [
        "bucketFrames",
        "points"
      ],
      "properties": {
        "bucketFrames": {
          "type": "integer",
          "minimum": 1,
          "description": "Frames averaged into each point (the last point may hold fewer)."
        },
        "points": {
          "type": "array",
          "maxItems": 2000,
          "items": {
            "type": "object",
            "additionalProperties": false,
            "required": [
              "pts",
              "top1Probability",
              "top1ProbabilityMin",
              "top1ProbabilityMax",
              "retention",
              "retentionLow",
              "retentionHigh"
            ],
            "properties": {
              "pts": {
                "type": "number",
                "description": "Mean presentation time of the bucket's frames, seconds."
              },
              "top1Probability": {
                "type": "number",
                "description": "Mean clean top-1 probability of the bucket's frames."
              },
              "top1ProbabilityMin": {
                "type": "number",
                "description": "Lowest clean top-1 probability in the bucket."
              },
              "top1ProbabilityMax": {
                "type": "number",
                "description": "Highest clean top-1 probability in the bucket."
              },
              "retention": {
                "type": "number",
                "description": "Mean retention of the bucket's frames."
              },
              "retentionLow": {
                "type": "number",
                "description": "Lowest lower bound of the frames' retention intervals in the bucket."
              },
              "retentionHigh": {
                "type": "number",
                "description": "Highest upper bound of the frames' retention intervals in the bucket."
              }
            }
          }
        }
      }
    },
    "corruptionOutcome": {
      "type": "object",
      "additionalProperties": false,
      "description": "The frame's model input under one corruption at one severity.",
      "required": [
        "corruption",
        "severity",
        "top1",
        "survived",
        "targetProbability",
        "drop"
      ],
      "properties": {
        "corruption": {
          "type": "string",
          "description": "imagecorruptions' name (gaussian_noise, ...), or low_light, rain, camera_shake, h264_compression."
        },
        "severity": {
          "type": "integer",
          "minimum": 1,
          "maximum": 5
        },
        "top1": {
          "type": "integer",
          "minimum": 0,
          "description": "The corrupted copy's top-1 class."
        },
        "survived": {
          "type": "boolean",
          "description": "True when it is the clean top-1."
        },
        "targetProbability": {
          "type": "number"
        },
        "drop": {
          "type": "number",
          "description": "Clean target probability minus the corrupted copy's."
        }
      }
    },
    "corruptionSummary": {
      "type": "object",
      "additionalProperties": false,
      "description": "One corruption at one severity over the clip's frames.",
      "required": [
        "corruption",
        "severity",
        "frames",
        "retention",
        "retentionInterval",
        "meanDrop"
      ],
      "properties": {
        "corruption": {
          "type": "string"
        },
        "severity": {
          "type": "integer",
          "minimum": 1,
          "maximum": 5
        },
        "frames": {
          "type": "integer",
          "minimum": 0
        },
        "retention": {
          "type": "number",
          "minimum": 0,
          "maximum": 1,
          "description": "Share of frames whose clean top-1 survived."
        },
        "retentionInterval": {
          "$ref": "#/$defs/interval",
          "description": "95% Wilson interval."
        },
        "meanDrop": {
          "type": "number",
          "description": "Mean drop of the target's probability."
        }
      }
    },
    "faithfulness": {
      "type": "object",
      "additionalProperties": false,
      "required": [
        "deletion",
        "insertion",
        "deletionAUC",
        "insertionAUC"
      ],
      "description": "How faithful a map is on one frame (--faithfulness): deletion replaces the input's pixels by the mean colour in the order the map ranks them, most relevant first; insertion puts them back on a mean-colour image in that order.",
      "properties": {
        "deletion": {
          "type": "array",
          "items": {
            "type": "number",
            "minimum": 0,
            "maximum": 1
          },
          "minItems": 2,
          "description": "Deletion curve: The target's probability at evenly spaced fractions 0, 1/steps, ..., 1 of the pixels."
        },
        "insertion": {
          "type": "array",
          "items": {
            "type": "number",
            "minimum": 0,
            "maximum": 1
          },
          "minItems": 2,
          "description": "Insertion curve: The target's probability at evenly spaced fractions 0, 1/steps, ..., 1 of the pixels."
        },
        "deletionAUC": {
          "type": "number",
          "description": "Trapezoid area under the deletion curve over [0, 1]; lower is more faithful."
        },
        "insertionAUC": {
          "type": "number",
          "description": "Trapezoid area under the insertion curve over [0, 1]; higher is more faithful."
        },
        "camMultChange": {
          "type": "number",
          "description": "pytorch-grad-cam's CAM multiplication confidence change: the target's probability on input x map (min-max scaled, resized to the input) minus on the input. Absent for the random order."
        }
      }
    },
    "methodExplanation": {
      "type": "object",
      "additionalProperties": false,
      "required": [
        "method",
        "cam",
        "camWidth",
        "camHeight"
      ],
      "description": "One CAM method's map of the frame.",
      "properties": {
        "method": {
          "type": "string",
          "description": "The --cam name: gradcam, gradcam++, xgradcam, layercam, layercam-fused, eigencam, scorecam or hirescam."
        },
        "cam": {
          "type": "array",
          "items": {
            "type": "number",
            "minimum": 0
          },
          "description": "The map at its layer's grid, row-major [camHeight, camWidth], after ReLU, not normalised (layercam-fused: at the finest fusion layer's grid)."
        },
        "camWidth": {
          "type": "integer",
          "minimum": 1
        },
        "camHeight": {
          "type": "integer",
          "minimum": 1
        },
        "faithfulness": {
          "$ref": "#/$defs/faithfulness"
        }
      }
    },
    "meanWithInterval": {
      "type": "object",
      "additionalProperties": false,
      "required": [
        "mean",
        "interval"
      ],
      "description": "A mean over frames with its 95% moving-block bootstrap interval.",
      "properties": {
        "mean": {
          "type": "number"
        },
        "interval": {
          "$ref": "#/$defs/interval"
        }
      }
    },
    "faithfulnessSummary": {
      "type": "object",
      "additionalProperties": false,
      "required": [
        "method",
        "frames",
        "deletionAUC",
        "insertionAUC",
        "score"
      ],
      "description": "One CAM method's faithfulness over the frames, or the random pixel order's (method random).",
      "properties": {
        "method": {
          "type": "string"
        },
        "frames": {
          "type": "integer",
          "minimum": 0
        },
        "deletionAUC": {
          "$ref": "#/$defs/meanWithInterval"
        },
        "insertionAUC": {
          "$ref": "#/$defs/meanWithInterval"
        },
        "score": {
          "$ref": "#/$defs/meanWithInterval",
          "description": "Insertion minus deletion AUC per frame: what methods are ranked by (higher is more faithful)."
        },
        "camMultChange": {
          "$ref": "#/$defs/meanWithInterval",
          "description": "CAM multiplication confidence change (absent for the random order)."
        }
      }
    },
    "methodCurves": {
      "type": "object",
      "additionalProperties": false,
      "required": [
        "method",
        "deletion",
        "insertion"
      ],
      "description": "A method's (or the random order's) curves on one frame.",
      "properties": {
        "method": {
          "type": "string"
        },
        "deletion": {
          "type": "array",
          "items": {
            "type": "number",
            "minimum": 0,
            "maximum": 1
          },
          "minItems": 2,
          "description": "The target's probability at evenly spaced fractions 0, 1/steps, ..., 1 of the pixels."
        },
        "insertion": {
          "type": "array",
          "items": {
            "type": "number",
            "minimum": 0,
            "maximum": 1
          },
          "minItems": 2,
          "description": "The target's probability at evenly spaced fractions 0, 1/steps, ..., 1 of the pixels."
        }
      }
    }
  }
}
"""#
    /// JSON Schema (draft 2020-12) of `index.json` over several clips, a shard or a merge.
    public static let index = #"""
{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "vigil:index.schema.json",
  "title": "Vigil index.json (several clips, a manifest, a shard or a merge), schema version 1.0",
  "description": "Written by `vigil analyze` with several clips or --manifest (into OUT, or OUT/shards/I with --shard) and by `vigil merge` (into OUT). A merged index lists the same clips with the same numbers as one unsharded run of the manifest.",
  "type": "object",
  "additionalProperties": false,
  "required": [
    "schemaVersion",
    "clips"
  ],
  "properties": {
    "schemaVersion": {
      "const": "1.0"
    },
    "fleet": {
      "type": "object",
      "additionalProperties": false,
      "required": [
        "manifest",
        "manifestSHA256",
        "manifestClips"
      ],
      "description": "The manifest, and which shard this is or which shards were merged.",
      "properties": {
        "manifest": {
          "type": "string"
        },
        "manifestSHA256": {
          "type": "string",
          "pattern": "^[0-9a-f]{64}$"
        },
        "manifestClips": {
          "type": "integer",
          "minimum": 1
        },
        "shard": {
          "type": "integer",
          "minimum": 0
        },
        "shards": {
          "type": "integer",
          "minimum": 1
        },
        "mergedShards": {
          "type": "array",
          "items": {
            "type": "integer",
            "minimum": 0
          }
        },
        "missingShards": {
          "type": "array",
          "items": {
            "type": "integer",
            "minimum": 0
          }
        }
      }
    },
    "clips": {
      "type": "array",
      "items": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "clip",
          "status"
        ],
        "description": "One clip.",
        "properties": {
          "clip": {
            "type": "string",
            "description": "The clip path or URL as given (or as the manifest lists it, made absolute)."
          },
          "folder": {
            "type": "string",
            "description": "The clip's report folder, relative to index.json (absent when nothing was written)."
          },
          "status": {
            "enum": [
              "ok",
              "partial",
              "failed",
              "incomplete",
              "not-analysed"
            ],
            "description": "ok; partial (interrupted, or an error after some frames); failed (see error); incomplete (analysed, but the input was cut short or damaged); not-analysed (the run was interrupted first, or the clip's shard is missing from a merge)."
          },
          "error": {
            "type": "string",
            "description": "Why the clip failed or was incomplete."
          },
          "meanRetention": {
            "type": "number"
          },
          "retentionInterval": {
            "type": "object",
            "additionalProperties": false,
            "required": [
              "low",
              "high"
            ],
            "properties": {
              "low": {
                "type": "number"
              },
              "high": {
                "type": "number"
              }
            },
            "description": "The mean retention's 95% moving-block bootstrap interval."
          },
          "passed": {
            "type": "boolean",
            "description": "The verdict against --fail-under, when given."
          },
          "analysedFrames": {
            "type": "integer",
            "minimum": 0
          },
          "position": {
            "type": "integer",
            "minimum": 0,
            "description": "0-based position in the manifest (fleet runs)."
          },
          "reused": {
            "type": "boolean",
            "description": "True when earlier complete results with the same model, parameters and clip bytes were kept instead of analysing again."
          }
        }
      },
      "description": "The clips in order (manifest order in fleet runs)."
    }
  }
}
"""#
    /// JSON Schema (draft 2020-12) of `compare.json`.
    public static let compare = #"""
{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "vigil:compare.schema.json",
  "title": "Vigil compare.json, schema version 1.0",
  "description": "What `vigil compare` measured: several models on the same frames with the same seeded patches.",
  "type": "object",
  "additionalProperties": false,
  "required": [
    "schemaVersion",
    "createdBy",
    "clips",
    "parameters",
    "models",
    "pairs"
  ],
  "properties": {
    "schemaVersion": {
      "const": "1.0"
    },
    "createdBy": {
      "type": "string",
      "description": "The command line."
    },
    "clips": {
      "type": "array",
      "items": {
        "type": "string"
      },
      "minItems": 1
    },
    "parameters": {
      "$ref": "#/$defs/parameters"
    },
    "models": {
      "type": "array",
      "items": {
        "type": "object",
        "description": "One model.",
        "additionalProperties": false,
        "required": [
          "name",
          "path",
          "sha256",
          "inputSize",
          "labels",
          "analysedFrames",
          "meanRetention",
          "retentionInterval",
          "meanTop1Probability",
          "framesWithFlip",
          "msPerFrame"
        ],
        "properties": {
          "name": {
            "type": "string",
            "description": "The card's name, else the file name (made unique)."
          },
          "path": {
            "type": "string"
          },
          "sha256": {
            "type": "string",
            "pattern": "^[0-9a-f]{64}$"
          },
          "inputSize": {
            "type": "array",
            "items": {
              "type": "integer",
              "minimum": 1
            },
            "minItems": 2,
            "maxItems": 2,
            "description": "[height, width]."
          },
          "labels": {
            "type": "integer",
            "minimum": 0,
            "description": "Labels in its card."
          },
          "analysedFrames": {
            "type": "integer",
            "minimum": 1
          },
          "meanRetention": {
            "type": "number"
          },
          "retentionInterval": {
            "$ref": "#/$defs/interval"
          },
          "meanTop1Probability": {
            "type": "number"
          },
          "framesWithFlip": {
            "type": "number",
            "minimum": 0,
            "maximum": 1
          },
          "msPerFrame": {
            "type": "number",
            "minimum": 0,
            "description": "Wall-clock milliseconds per analysed frame (classification, Grad-CAM, occlusion)."
          },
          "corruptionScore": {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "description": "With --corruptions: mean retention over every corruption and severity."
          },
          "corruptions": {
            "type": "array",
            "items": {
              "type": "object"
            },
            "description": "With --corruptions: per corruption and severity, frames, retention with its Wilson interval and mean drop (as report.json's summary.corruptions)."
          },
          "relativeCorruptionError": {
            "type": "number",
            "description": "With --corruptions and --baseline: (1 - corruptionScore) / (1 - the baseline's), ImageNet-C's mCE ratio."
          },
          "faithfulness": {
            "type": "array",
            "items": {
              "$ref": "#/$defs/faithfulnessSummary"
            },
            "description": "The model's CAM methods ranked by faithfulness on these frames, most faithful first, then the random pixel order (--faithfulness)."
          }
        }
      },
      "minItems": 2
    },
    "pairs": {
      "type": "array",
      "items": {
        "type": "object",
        "description": "Two models on the same frames and patches.",
        "additionalProperties": false,
        "required": [
          "a",
          "b",
          "retentionDifference",
          "differenceInterval",
          "top1Agreement",
          "labelsOnlyA",
          "labelsOnlyB",
          "examplesOnlyA",
          "examplesOnlyB",
          "mostDisagreeing"
        ],
        "properties": {
          "a": {
            "type": "integer",
            "minimum": 0,
            "description": "Index into models."
          },
          "b": {
            "type": "integer",
            "minimum": 0,
            "description": "Index into models."
          },
          "retentionDifference": {
            "type": "number",
            "description": "Mean over frames of B's retention minus A's."
          },
          "differenceInterval": {
            "$ref": "#/$defs/interval",
            "description": "95% paired moving-block bootstrap interval of retentionDifference."
          },
          "top1Agreement": {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "description": "Share of frames with the same clean top-1 label name."
          },
          "camSimilarity": {
            "type": "number",
            "description": "Mean Pearson correlation of the two Grad-CAM maps on a common 7x7 grid."
          },
          "labelsOnlyA": {
            "type": "integer",
            "minimum": 0
          },
          "labelsOnlyB": {
            "type": "integer",
            "minimum": 0
          },
          "examplesOnlyA": {
            "type": "array",
            "items": {
              "type": "string"
            },
            "description": "Up to 10 labels only A has."
          },
          "examplesOnlyB": {
            "type": "array",
            "items": {
              "type": "string"
            },
            "description": "Up to 10 labels only B has."
          },
          "mostDisagreeing": {
            "type": "array",
            "items": {
              "type": "object",
              "description": "A frame where the two retentions differ most.",
              "additionalProperties": false,
              "required": [
                "clip",
                "frame",
                "pts",
                "labelA",
                "labelB",
                "retentionA",
                "retentionB"
              ],
              "properties": {
                "clip": {
                  "type": "string"
                },
                "frame": {
                  "type": "integer",
                  "minimum": 0
                },
                "pts": {
                  "type": "number"
                },
                "labelA": {
                  "type": "string"
                },
                "labelB": {
                  "type": "string"
                },
                "retentionA": {
                  "type": "number"
                },
                "retentionB": {
                  "type": "number"
                }
              }
            }
          }
        }
      }
    },
    "gate": {
      "type": "object",
      "description": "The --baseline / --fail-if-worse gate.",
      "additionalProperties": false,
      "required": [
        "baseline",
        "margin",
        "failures",
        "passed"
      ],
      "properties": {
        "baseline": {
          "type": "integer",
          "minimum": 0
        },
        "margin": {
          "type": "number"
        },
        "failures": {
          "type": "array",
          "items": {
            "type": "string"
          },
          "description": "One sentence per candidate worse than the baseline by more than margin with 95% confidence."
        },
        "passed": {
          "type": "boolean"
        }
      }
    }
  },
  "$defs": {
    "interval": {
      "type": "object",
      "description": "A 95% interval.",
      "additionalProperties": false,
      "required": [
        "low",
        "high"
      ],
      "properties": {
        "low": {
          "type": "number",
          "description": "Lower bound."
        },
        "high": {
          "type": "number",
          "description": "Upper bound."
        }
      }
    },
    "parameters": {
      "type": "object",
      "description": "Every analysis parameter that changes the numbers.",
      "additionalProperties": false,
      "required": [
        "patches",
        "patchSizeLow",
        "patchSizeHigh",
        "fill",
        "seed",
        "target",
        "camNorm"
      ],
      "properties": {
        "start": {
          "type": "number",
          "minimum": 0,
          "description": "Seconds into the clip the analysis started (--start or the manifest's start), when given."
        },
        "duration": {
          "type": "number",
          "exclusiveMinimum": 0,
          "description": "Seconds of the clip analysed (--duration or the manifest's duration), when given."
        },
        "patches": {
          "type": "integer",
          "minimum": 1,
          "description": "Occlusion patches per frame (--patches)."
        },
        "patchSizeLow": {
          "type": "number",
          "description": "Smallest patch side as a fraction of the input's short side (--patch-size)."
        },
        "patchSizeHigh": {
          "type": "number",
          "description": "Largest patch side; equal to patchSizeLow for a fixed size."
        },
        "fill": {
          "enum": [
            "gray",
            "black",
            "blur",
            "noise"
          ],
          "description": "What hides the pixels under a patch (--fill)."
        },
        "seed": {
          "type": "integer",
          "minimum": 0,
          "description": "Seed of the patch placement and of the bootstrap (--seed)."
        },
        "target": {
          "type": "string",
          "description": "top1, or the fixed target class as given (--target)."
        },
        "camNorm": {
          "enum": [
            "clip",
            "frame"
          ],
          "description": "Grad-CAM normalisation of the overlay (--cam-norm)."
        },
        "every": {
          "type": "integer",
          "minimum": 1,
          "description": "Analyse every Nth frame (--every); absent when not given."
        },
        "fps": {
          "type": "number",
          "exclusiveMinimum": 0,
          "description": "Analysis rate in frames per second (--fps); absent when not given."
        },
        "maxFrames": {
          "type": "integer",
          "minimum": 1,
          "description": "Most frames analysed (--max-frames); absent when not given."
        },
        "failUnder": {
          "type": "number",
          "description": "Verdict threshold on the mean retention (--fail-under); absent when not given."
        },
        "corruptions": {
          "type": "array",
          "items": {
            "type": "string"
          },
          "description": "Camera-condition corruptions applied to each frame (--corruptions), when asked for."
        },
        "severities": {
          "type": "array",
          "items": {
            "type": "integer",
            "minimum": 1,
            "maximum": 5
          },
          "description": "Their severities (--severity)."
        },
        "cams": {
          "type": "array",
          "items": {
            "type": "string"
          },
          "minItems": 1,
          "description": "CAM methods (--cam) when other than gradcam alone; the first made the overlay."
        },
        "faithfulnessSteps": {
          "type": "integer",
          "minimum": 2,
          "description": "Points per deletion or insertion curve less one, when faithfulness was measured (--faithfulness)."
        }
      }
    },
    "meanWithInterval": {
      "type": "object",
      "additionalProperties": false,
      "required": [
        "mean",
        "interval"
      ],
      "description": "A mean over frames with its 95% moving-block bootstrap interval.",
      "properties": {
        "mean": {
          "type": "number"
        },
        "interval": {
          "$ref": "#/$defs/interval"
        }
      }
    },
    "faithfulnessSummary": {
      "type": "object",
      "additionalProperties": false,
      "required": [
        "method",
        "frames",
        "deletionAUC",
        "insertionAUC",
        "score"
      ],
      "description": "One CAM method's faithfulness over the frames, or the random pixel order's (method random).",
      "properties": {
        "method": {
          "type": "string"
        },
        "frames": {
          "type": "integer",
          "minimum": 0
        },
        "deletionAUC": {
          "$ref": "#/$defs/meanWithInterval"
        },
        "insertionAUC": {
          "$ref": "#/$defs/meanWithInterval"
        },
        "score": {
          "$ref": "#/$defs/meanWithInterval",
          "description": "Insertion minus deletion AUC per frame: what methods are ranked by (higher is more faithful)."
        },
        "camMultChange": {
          "$ref": "#/$defs/meanWithInterval",
          "description": "CAM multiplication confidence change (absent for the random order)."
        }
      }
    }
  }
}
"""#
    /// JSON Schema (draft 2020-12) of a live feed's `index.json`.
    public static let liveIndex = #"""
{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "vigil:live-index.schema.json",
  "title": "Vigil live feed index.json, schema version 1.0",
  "description": "The state of `vigil analyze` on a live feed, rewritten atomically at each window boundary and every few seconds while the run goes on. Its size is bounded: only the windows --keep keeps are listed, and at most the last 100 gaps and alerts.",
  "type": "object",
  "additionalProperties": false,
  "required": [
    "schemaVersion",
    "feed",
    "status",
    "startedAt",
    "updatedAt",
    "model",
    "modelSHA256",
    "windowSeconds",
    "counts",
    "reconnects",
    "gapCount",
    "gaps",
    "alertCount",
    "alerts",
    "prunedWindows",
    "windows"
  ],
  "properties": {
    "schemaVersion": {
      "const": "1.0",
      "description": "Version of this schema."
    },
    "feed": {
      "type": "string",
      "description": "The feed's URL."
    },
    "status": {
      "enum": [
        "running",
        "ended",
        "interrupted",
        "failed"
      ],
      "description": "running while the run goes on; ended when the feed ended (reconnection off or given up) or --max-frames/--duration was reached; interrupted after SIGINT/SIGTERM; failed after an analysis or output error (see error)."
    },
    "startedAt": {
      "type": "string",
      "description": "When the run started (UTC, ISO 8601)."
    },
    "updatedAt": {
      "type": "string",
      "description": "When this file was written (UTC, ISO 8601)."
    },
    "model": {
      "type": "string",
      "description": "The model file."
    },
    "modelSHA256": {
      "type": "string",
      "description": "SHA-256 of the model file."
    },
    "windowSeconds": {
      "type": "number",
      "exclusiveMinimum": 0,
      "description": "Window length in feed seconds (--window)."
    },
    "keepSeconds": {
      "type": "number",
      "exclusiveMinimum": 0,
      "description": "How long windows and overlay segments are kept (--keep)."
    },
    "alertUnder": {
      "type": "number",
      "description": "The --alert-under threshold."
    },
    "overlay": {
      "type": "string",
      "description": "The overlay's HLS playlist beside index.json, when the overlay is written."
    },
    "counts": {
      "type": "object",
      "description": "Frames seen by the run.",
      "additionalProperties": false,
      "required": [
        "received",
        "analysed",
        "dropped",
        "overlayDropped"
      ],
      "properties": {
        "received": {
          "type": "integer",
          "minimum": 0,
          "description": "Frames decoded from the feed."
        },
        "analysed": {
          "type": "integer",
          "minimum": 0,
          "description": "Frames analysed."
        },
        "dropped": {
          "type": "integer",
          "minimum": 0,
          "description": "Frames not analysed because a newer frame replaced them before a worker was free."
        },
        "overlayDropped": {
          "type": "integer",
          "minimum": 0,
          "description": "Frames left out of the overlay because its encoder was behind."
        }
      }
    },
    "latency": {
      "type": "object",
      "description": "Seconds from a frame's decoding to its finished analysis, over the whole run (percentiles from a histogram with 5% resolution).",
      "additionalProperties": false,
      "required": [
        "p50",
        "p90",
        "p99",
        "max",
        "samples"
      ],
      "properties": {
        "p50": {
          "type": "number"
        },
        "p90": {
          "type": "number"
        },
        "p99": {
          "type": "number"
        },
        "max": {
          "type": "number"
        },
        "samples": {
          "type": "integer",
          "minimum": 0
        }
      }
    },
    "reconnects": {
      "type": "integer",
      "minimum": 0,
      "description": "Successful reconnections."
    },
    "gapCount": {
      "type": "integer",
      "minimum": 0,
      "description": "Gaps in all (the list holds the last 100)."
    },
    "gaps": {
      "type": "array",
      "items": {
        "type": "object",
        "description": "A time the feed delivered no frames.",
        "additionalProperties": false,
        "required": [
          "start",
          "cause",
          "attempts"
        ],
        "properties": {
          "start": {
            "type": "string",
            "description": "When the feed stopped delivering (UTC, ISO 8601)."
          },
          "end": {
            "type": "string",
            "description": "When frames came again; absent while the gap lasts or when the run gave up."
          },
          "seconds": {
            "type": "number",
            "minimum": 0,
            "description": "The gap's length."
          },
          "cause": {
            "type": "string",
            "description": "The error or end of stream that started it."
          },
          "attempts": {
            "type": "integer",
            "minimum": 0,
            "description": "Reconnection attempts made."
          }
        }
      }
    },
    "alertCount": {
      "type": "integer",
      "minimum": 0,
      "description": "Alerts in all (the list holds the last 100)."
    },
    "alerts": {
      "type": "array",
      "items": {
        "type": "object",
        "description": "A window whose mean retention fell below --alert-under.",
        "additionalProperties": false,
        "required": [
          "window",
          "at",
          "meanRetention",
          "retentionInterval",
          "threshold"
        ],
        "properties": {
          "window": {
            "type": "integer",
            "minimum": 0
          },
          "at": {
            "type": "string",
            "description": "When the window closed (UTC, ISO 8601)."
          },
          "meanRetention": {
            "type": "number"
          },
          "retentionInterval": {
            "$ref": "#/$defs/interval"
          },
          "threshold": {
            "type": "number"
          },
          "hookExitStatus": {
            "type": "integer",
            "description": "Exit status of the --on-alert command."
          }
        }
      }
    },
    "prunedWindows": {
      "type": "integer",
      "minimum": 0,
      "description": "Closed windows deleted by --keep."
    },
    "windows": {
      "type": "array",
      "items": {
        "type": "object",
        "description": "One window of the feed.",
        "additionalProperties": false,
        "required": [
          "index",
          "startTime",
          "endTime",
          "frames",
          "alert"
        ],
        "properties": {
          "index": {
            "type": "integer",
            "minimum": 0,
            "description": "Window number, from 0."
          },
          "folder": {
            "type": "string",
            "description": "Its folder under windows/ (report.json version 2, report.html, frames.jsonl, frames.csv); absent for the current window."
          },
          "startTime": {
            "type": "number",
            "description": "Feed time the window starts at: seconds of video since the run started, continuous across gaps."
          },
          "endTime": {
            "type": "number",
            "description": "Feed time the window ends at (for the current window: its planned end)."
          },
          "firstFrameAt": {
            "type": "string",
            "description": "Wall-clock time (UTC, ISO 8601) of its first analysed frame."
          },
          "lastFrameAt": {
            "type": "string",
            "description": "Wall-clock time (UTC, ISO 8601) of its last analysed frame."
          },
          "frames": {
            "type": "integer",
            "minimum": 0,
            "description": "Frames analysed in the window."
          },
          "meanRetention": {
            "type": "number",
            "description": "Mean per-frame retention."
          },
          "retentionInterval": {
            "$ref": "#/$defs/interval"
          },
          "meanTop1Probability": {
            "type": "number",
            "description": "Mean clean top-1 probability."
          },
          "top1": {
            "type": "string",
            "description": "The most frequent clean top-1 label."
          },
          "alert": {
            "type": "boolean",
            "description": "True when its mean retention fell below --alert-under."
          }
        }
      },
      "description": "Closed windows still on disk, oldest first."
    },
    "current": {
      "type": "object",
      "description": "One window of the feed.",
      "additionalProperties": false,
      "required": [
        "index",
        "startTime",
        "endTime",
        "frames",
        "alert"
      ],
      "properties": {
        "index": {
          "type": "integer",
          "minimum": 0,
          "description": "Window number, from 0."
        },
        "folder": {
          "type": "string",
          "description": "Its folder under windows/ (report.json version 2, report.html, frames.jsonl, frames.csv); absent for the current window."
        },
        "startTime": {
          "type": "number",
          "description": "Feed time the window starts at: seconds of video since the run started, continuous across gaps."
        },
        "endTime": {
          "type": "number",
          "description": "Feed time the window ends at (for the current window: its planned end)."
        },
        "firstFrameAt": {
          "type": "string",
          "description": "Wall-clock time (UTC, ISO 8601) of its first analysed frame."
        },
        "lastFrameAt": {
          "type": "string",
          "description": "Wall-clock time (UTC, ISO 8601) of its last analysed frame."
        },
        "frames": {
          "type": "integer",
          "minimum": 0,
          "description": "Frames analysed in the window."
        },
        "meanRetention": {
          "type": "number",
          "description": "Mean per-frame retention."
        },
        "retentionInterval": {
          "$ref": "#/$defs/interval"
        },
        "meanTop1Probability": {
          "type": "number",
          "description": "Mean clean top-1 probability."
        },
        "top1": {
          "type": "string",
          "description": "The most frequent clean top-1 label."
        },
        "alert": {
          "type": "boolean",
          "description": "True when its mean retention fell below --alert-under."
        }
      }
    },
    "meanRetention": {
      "type": "number",
      "description": "Frame-weighted mean retention of the listed windows."
    },
    "error": {
      "type": "string",
      "description": "What stopped the run, when it failed."
    }
  },
  "$defs": {
    "interval": {
      "type": "object",
      "description": "A 95% interval.",
      "additionalProperties": false,
      "required": [
        "low",
        "high"
      ],
      "properties": {
        "low": {
          "type": "number"
        },
        "high": {
          "type": "number"
        }
      }
    }
  }
}
"""#
}
