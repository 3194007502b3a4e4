import Foundation

/// The review part of `report.html`: the overlay video with its WebVTT track (or a note that there is none), the
/// current frame's figures beside it, the per-frame block the page reads, and the inline script that ties the
/// video to the charts, the label timeline and the least robust frames.
///
/// The page stays one offline file (plus the video and its track beside it): no external script, no URL. What the
/// script relies on in the rest of the page: charts are `svg.seekable` with `data-t0`/`data-t1` (time domain) and
/// `data-x0`/`data-x1` (its x range in viewBox units) and one `line.playhead`; timeline rectangles are
/// `rect.segment` with their start time in `data-t`; least robust frames are `.thumb` with `data-frame` and `data-t`.
///
/// State a test (or a curious reader) can see in the DOM: `#review[data-source]` is `vtt` once the exact cues of
/// overlay.vtt are read, else `embedded`; `#review[data-cues]` counts them; `#review[data-time]` is the playhead's
/// time; `#frame-panel[data-frame]` and `[data-t]` name the frame shown.
enum ReviewPage {
    /// The video (or the note saying there is none) and the frame panel.
    static func block(video: HTMLReport.Video?, review: ReviewFrames, analysedFrames: Int) -> String {
        var h = "<div id=\"review\" class=\"review\" data-source=\"embedded\" data-cues=\"0\">\n<div class=\"player\">\n"
        if let v = video {
            h += "<video id=\"overlay-video\" src=\"\(HTML.escape(v.file))\" controls preload=\"auto\" muted playsinline>"
            h += "<track kind=\"subtitles\" src=\"\(HTML.escape(v.subtitles))\" srclang=\"en\" label=\"Vigil: label, probability, retention\">"
            h += "Your browser cannot play \(HTML.escape(v.file)) here; open it beside this page in a video player.</video>\n"
        } else {
            h += "<div class=\"novideo\" id=\"no-video\"><b>No overlay video</b> was written with this report (the run used "
            h += "<code>--no-video</code>, or this is a window of a live feed, whose overlay is the feed's HLS stream). Everything "
            h += "else works: click a chart, the label timeline or a least robust frame, or press ← →, to see that frame's figures.</div>\n"
        }
        h += "<div id=\"review-status\" class=\"sub status\">"
        h += video == nil ? "" : "Click a chart, the label timeline or a least robust frame to seek the video there; ← → step one analysed frame."
        h += "</div>\n</div>\n"
        h += "<div id=\"frame-panel\" class=\"panel\" aria-live=\"polite\">"
        h += analysedFrames == 0 ? "<div class=\"sub\">No frames were analysed.</div>" : "<div class=\"sub\">Loading the frame figures…</div>"
        h += "</div>\n</div>\n"
        return h
    }

    /// The per-frame block: `{"analysedFrames", "frameDuration", "video", "stride", "labels": [...], "entries": [...]}`
    /// as JSON in a non-executed script element (`<` written as `\u003c`, so no label can end the element).
    static func data(review: ReviewFrames, frameDuration: Double, video: Bool, analysedFrames: Int) -> String {
        struct Block: Encodable {
            var analysedFrames: Int
            var frameDuration: Double
            var video: Bool
            var stride: Int
            var labels: [String]
            var entries: [ReviewFrames.Entry]
        }
        let block = Block(analysedFrames: analysedFrames, frameDuration: frameDuration.isFinite ? frameDuration : 0, video: video,
                          stride: review.stride, labels: review.labels, entries: review.entries)
        let encoder = ReportJSON.encoder()
        let json = (try? encoder.encode(block)).map { String(decoding: $0, as: UTF8.self) } ?? "{\"entries\":[]}"
        return "<script type=\"application/json\" id=\"review-data\">" + json.replacingOccurrences(of: "<", with: "\\u003c") + "</script>\n"
    }

    static let style = """
    #review-area{position:relative}
    .review{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:16px;align-items:start;background:#fff;padding:8px 0 10px;border-bottom:1px solid var(--line);z-index:5}
    @media (min-height:760px){.review{position:sticky;top:0}}
    @media (max-width:760px){.review{grid-template-columns:1fr}}
    .review video{width:100%;max-height:40vh;background:#000;border-radius:6px;display:block}
    .review .status{margin-top:6px}
    .novideo{padding:22px 18px;border-radius:6px;background:var(--panel);border:1px dashed #c5ced8;color:var(--muted);font-size:14px}
    .panel{font-size:13px;border:1px solid var(--line);border-radius:8px;padding:10px 12px;background:var(--panel);min-height:120px}
    .panel .ptitle{display:flex;justify-content:space-between;align-items:baseline;gap:8px;margin-bottom:6px}
    .panel .ptitle b{font-size:15px}
    .panel button{font:inherit;font-size:12px;padding:1px 8px;border:1px solid #c5ced8;border-radius:4px;background:#fff;cursor:pointer}
    .panel table{font-size:13px;margin:4px 0 6px}
    .panel td{padding:2px 6px;border-bottom:none}
    .panel td.bar{width:40%}
    .panel .bar span{display:block;height:7px;background:var(--accent);border-radius:3px}
    .panel .row{margin:3px 0}
    .panel .k{color:var(--muted)}
    .chart .playhead{stroke:#111;stroke-width:1.5;pointer-events:none}
    .seekable{cursor:crosshair}
    .thumb[data-frame]{cursor:pointer}
    .thumb.current{outline:2px solid var(--accent);outline-offset:1px}
    """

    /// The script: keeps the current frame (from the video's time, a click or ← →), draws the playhead, fills the
    /// panel from the embedded block, and swaps in the exact per-frame cues of overlay.vtt when the browser reads it.
    static let script = """
    <script>
    (function () {
      'use strict';
      var root = document.getElementById('review');
      var dataEl = document.getElementById('review-data');
      if (!root || !dataEl) return;
      var data = JSON.parse(dataEl.textContent);
      var video = document.getElementById('overlay-video');
      var trackEl = video ? video.querySelector('track') : null;
      var statusEl = document.getElementById('review-status');
      var panel = document.getElementById('frame-panel');
      var charts = Array.prototype.slice.call(document.querySelectorAll('svg.seekable'));
      var thumbs = Array.prototype.slice.call(document.querySelectorAll('.thumb[data-frame]'));
      var entries = data.entries || [];
      var labels = data.labels || [];
      function label(i) { return labels[i] != null ? labels[i] : '?'; }
      var details = new Map();
      entries.forEach(function (e) { details.set(e.f, e); });
      // The frames the page can step through, in time order: the embedded ones, or every analysed frame from overlay.vtt.
      var frames = entries.map(function (e) { return { f: e.f, t: e.t, cue: null }; });
      var current = -1;
      var playable = !!video;
      var fd = data.frameDuration > 0 ? data.frameDuration : 0.04;
      var eps = Math.min(0.001, fd / 3);   // seek just past a frame's start, so that frame is the one shown
      var tol = 0.0006;                    // cue times are whole milliseconds
      var hasFrameCallback = !!(video && 'requestVideoFrameCallback' in video);

      function num(x) { return typeof x === 'number' && isFinite(x); }
      // Three decimals as the report, overlay.vtt and the command line print them (printf: a value exactly halfway
      // rounds to even, so 0.8125 is 0.812; toFixed would give 0.813).
      function fmt(x) {
        if (!num(x)) return 'n/a';
        var s = Math.abs(x).toFixed(20), dot = s.indexOf('.');
        if (/^50*$/.test(s.slice(dot + 4)) && Number(s.charAt(dot + 3)) % 2 === 0) return (x < 0 ? '-' : '') + s.slice(0, dot + 4);
        return x.toFixed(3);
      }
      function secs(x) { return num(x) ? x.toFixed(2) + ' s' : 'n/a'; }
      function node(tag, cls, text) {
        var e = document.createElement(tag);
        if (cls) e.className = cls;
        if (text != null) e.textContent = text;
        return e;
      }
      function status(text) { if (statusEl) statusEl.textContent = text; }

      // Index of the frame on screen at time t: the last one that starts at or before t.
      function indexAt(t) {
        var lo = 0, hi = frames.length - 1, found = 0;
        while (lo <= hi) {
          var mid = (lo + hi) >> 1;
          if (frames[mid].t <= t + tol) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
        }
        return found;
      }
      function nearest(t) {
        var i = indexAt(t);
        if (i + 1 < frames.length && Math.abs(frames[i + 1].t - t) < Math.abs(frames[i].t - t)) i += 1;
        return i;
      }
      function indexOfFrame(f) {
        var lo = 0, hi = frames.length - 1;
        while (lo <= hi) {
          var mid = (lo + hi) >> 1;
          if (frames[mid].f === f) return mid;
          if (frames[mid].f < f) lo = mid + 1; else hi = mid - 1;
        }
        return -1;
      }
      function nearestEntry(t) {
        var lo = 0, hi = entries.length - 1, found = 0;
        while (lo <= hi) {
          var mid = (lo + hi) >> 1;
          if (entries[mid].t <= t) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
        }
        if (found + 1 < entries.length && Math.abs(entries[found + 1].t - t) < Math.abs(entries[found].t - t)) found += 1;
        return entries[found];
      }

      // A cue of overlay.vtt: "LABEL P" then "retention R [LOW, HIGH]", with &amp; &lt; &gt; in the label.
      function parseCue(cue) {
        var lines = cue.text.split('\\n');
        var a = /^(.*) (\\S+)$/.exec(lines[0] || '');
        var b = /^retention (\\S+) \\[(\\S+), (\\S+)\\]$/.exec(lines[1] || '');
        var label = (a ? a[1] : lines[0] || '').replace(/&(amp|lt|gt);/g, function (m, n) { return n === 'amp' ? '&' : n === 'lt' ? '<' : '>'; });
        return { label: label, p: a ? parseFloat(a[2]) : NaN,
                 r: b ? parseFloat(b[1]) : NaN, lo: b ? parseFloat(b[2]) : NaN, hi: b ? parseFloat(b[3]) : NaN };
      }

      function row(parent, key, value) {
        var d = node('div', 'row');
        d.appendChild(node('span', 'k', key + ' '));
        d.appendChild(node('span', null, value));
        parent.appendChild(d);
      }
      function scores(parent, list) {
        var table = node('table', 'top5');
        list.forEach(function (s) {
          var tr = node('tr');
          tr.appendChild(node('td', null, s.label));
          tr.appendChild(node('td', 'num', fmt(s.p)));
          var bar = node('td', 'bar'), fill = node('span');
          fill.style.width = (num(s.p) ? Math.max(0, Math.min(1, s.p)) * 100 : 0).toFixed(1) + '%';
          bar.appendChild(fill);
          tr.appendChild(bar);
          table.appendChild(tr);
        });
        parent.appendChild(table);
      }
      function flips(e) {
        if (!e.flips.length) return 'none';
        return e.flips.map(function (x) { return label(x.l) + ' \\u00d7' + x.n; }).join(', ') + (e.more ? ', and ' + e.more + ' more labels' : '');
      }

      function render() {
        var fr = frames[current];
        if (!fr) return;
        var e = details.get(fr.f);
        var c = !e && fr.cue ? parseCue(fr.cue) : null;
        panel.dataset.frame = String(fr.f);
        panel.dataset.t = String(fr.t);
        panel.textContent = '';
        var title = node('div', 'ptitle');
        title.appendChild(node('b', null, 'Frame ' + fr.f));
        title.appendChild(node('span', 'sub', 'at ' + secs(fr.t) + ' \\u00b7 ' + (current + 1) + ' of ' + frames.length));
        var buttons = node('span');
        var prev = node('button', null, '\\u2190'), next = node('button', null, '\\u2192');
        prev.title = 'previous analysed frame (\\u2190)'; next.title = 'next analysed frame (\\u2192)';
        prev.addEventListener('click', function () { step(-1); });
        next.addEventListener('click', function () { step(1); });
        buttons.appendChild(prev); buttons.appendChild(next);
        title.appendChild(buttons);
        panel.appendChild(title);
        if (e) {
          scores(panel, e.top.map(function (s) { return { label: label(s.l), p: s.p }; }));
          row(panel, 'Retention', fmt(e.r) + ' [' + fmt(e.lo) + ', ' + fmt(e.hi) + '] (95% Wilson interval)');
          row(panel, 'Flipped to', flips(e));
          row(panel, 'Grad-CAM / occlusion agreement', fmt(e.cam));
          row(panel, 'Mean confidence drop', num(e.d) ? (e.d * 100).toFixed(1) + '%' : 'n/a');
        } else if (c) {
          scores(panel, [{ label: c.label, p: c.p }]);
          row(panel, 'Retention', fmt(c.r) + ' [' + fmt(c.lo) + ', ' + fmt(c.hi) + '] (95% Wilson interval)');
          var n = entries.length ? nearestEntry(fr.t) : null;
          if (n) {
            row(panel, 'Flipped to (frame ' + n.f + ')', flips(n));
            row(panel, 'Grad-CAM / occlusion agreement (frame ' + n.f + ')', fmt(n.cam));
            panel.appendChild(node('div', 'sub', 'The page embeds the full figures of one in ' + data.stride + ' of the ' +
              data.analysedFrames + ' analysed frames and of the least robust ones; those of frame ' + n.f +
              ', the nearest, are shown. frames.jsonl and frames.csv have every frame.'));
          }
        }
        thumbs.forEach(function (th) { th.classList.toggle('current', Number(th.dataset.frame) === fr.f); });
      }

      function movePlayhead(t) {
        charts.forEach(function (svg) {
          var t0 = Number(svg.dataset.t0), t1 = Number(svg.dataset.t1), x0 = Number(svg.dataset.x0), x1 = Number(svg.dataset.x1);
          var line = svg.querySelector('line.playhead');
          if (!line) return;
          var x = x0 + (Math.min(Math.max(t, t0), t1) - t0) / ((t1 - t0) || 1) * (x1 - x0);
          line.setAttribute('x1', x.toFixed(2));
          line.setAttribute('x2', x.toFixed(2));
          line.setAttribute('visibility', 'visible');
        });
        root.dataset.time = String(t);
      }

      // Shows frame i; with `seek`, moves the video there too.
      function go(i, seek) {
        if (!frames.length) return;
        current = Math.max(0, Math.min(frames.length - 1, i));
        render();
        movePlayhead(frames[current].t);
        if (seek && playable) video.currentTime = frames[current].t + eps;
      }
      function step(d) {
        if (playable && !video.paused) video.pause();
        go(current < 0 ? 0 : current + d, true);
      }

      // The video's time drives the current frame.
      function onTime(t) {
        if (!frames.length || !num(t)) return;
        var i = indexAt(t);
        if (i !== current) { current = i; render(); }
        movePlayhead(t);
      }
      if (video) {
        if (hasFrameCallback) {
          var onFrame = function (now, meta) {
            if (!video.seeking) onTime(meta.mediaTime);
            video.requestVideoFrameCallback(onFrame);
          };
          video.requestVideoFrameCallback(onFrame);
        }
        video.addEventListener('timeupdate', function () { if ((!hasFrameCallback || video.paused) && !video.seeking) onTime(video.currentTime); });
        video.addEventListener('seeked', function () { onTime(video.currentTime); });
        video.addEventListener('loadeddata', function () { if (current >= 0 && video.currentTime + tol < frames[current].t) video.currentTime = frames[current].t + eps; });
        video.addEventListener('error', function () {
          playable = false;
          var codes = { 1: 'loading was aborted', 2: 'a network error', 3: 'it could not be decoded', 4: 'it was not found or its format is not supported' };
          status(video.getAttribute('src') + ' cannot be played here (' + (codes[video.error && video.error.code] || 'unknown error') +
            '): keep it in the same folder as report.html, or open it in a video player. The charts, the timeline and the frames below still work.');
        });
      }

      // Exact per-frame cues from overlay.vtt (browsers refuse them to a page opened from disk; then the embedded frames serve).
      if (trackEl) {
        var onCues = function () {
          var cues = trackEl.track.cues;
          if (!cues || !cues.length) { return; }
          var list = [];
          for (var k = 0; k < cues.length; k++) {
            var m = /(\\d+)\\s*$/.exec(cues[k].id);
            if (!m) continue;
            var f = parseInt(m[1], 10), e = details.get(f);
            list.push({ f: f, t: e ? e.t : cues[k].startTime, cue: cues[k] });
          }
          var shown = current >= 0 ? frames[current].f : null;
          frames = list;
          root.dataset.source = 'vtt';
          root.dataset.cues = String(list.length);
          status('Click a chart, the label timeline or a least robust frame to seek the video there; \\u2190 \\u2192 step one of the ' +
            list.length + ' analysed frames (from ' + trackEl.getAttribute('src') + ').');
          if (shown != null) { var j = indexOfFrame(shown); current = j >= 0 ? j : indexAt(video.currentTime); render(); }
        };
        trackEl.addEventListener('load', onCues);
        trackEl.addEventListener('error', function () {
          var all = data.stride <= 1;
          status(trackEl.getAttribute('src') + ' could not be read (browsers refuse subtitle tracks to a page opened from disk; ' +
            'otherwise, keep it beside report.html). ' +
            (all ? 'All ' + entries.length + ' analysed frames are embedded in the page, so nothing is missing here. '
                 : '\\u2190 \\u2192 step through the ' + entries.length + ' frames embedded in the page (one in ' + data.stride + ' of the ' +
                   data.analysedFrames + ' analysed); serve this folder over HTTP (for example python3 -m http.server in it) to step through every frame. ') +
            'VLC and mpv show ' + trackEl.getAttribute('src') + ' as subtitles of ' + video.getAttribute('src') + '.');
        });
        trackEl.track.mode = 'hidden';
        if (trackEl.readyState === 2) onCues();
      }

      charts.forEach(function (svg) {
        svg.addEventListener('click', function (ev) {
          if (!frames.length) return;
          var seg = ev.target && ev.target.closest ? ev.target.closest('rect.segment') : null;
          if (seg) { go(indexAt(Number(seg.dataset.t)), true); return; }
          var pt = svg.createSVGPoint();
          pt.x = ev.clientX; pt.y = ev.clientY;
          var p = pt.matrixTransform(svg.getScreenCTM().inverse());
          var t0 = Number(svg.dataset.t0), t1 = Number(svg.dataset.t1), x0 = Number(svg.dataset.x0), x1 = Number(svg.dataset.x1);
          var t = t0 + (p.x - x0) / ((x1 - x0) || 1) * (t1 - t0);
          go(nearest(Math.min(Math.max(t, t0), t1)), true);
        });
      });
      thumbs.forEach(function (th) {
        var pick = function () {
          var i = indexOfFrame(Number(th.dataset.frame));
          go(i >= 0 ? i : nearest(Number(th.dataset.t)), true);
        };
        th.addEventListener('click', pick);
        th.addEventListener('keydown', function (ev) { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); pick(); } });
      });
      window.addEventListener('keydown', function (ev) {
        if (ev.altKey || ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
        if (ev.key !== 'ArrowLeft' && ev.key !== 'ArrowRight') return;
        var tag = ev.target && ev.target.tagName;
        if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT') return;
        ev.preventDefault();
        ev.stopPropagation();
        step(ev.key === 'ArrowRight' ? 1 : -1);
      }, true);

      go(0, false);
    })();
    </script>

    """
}
