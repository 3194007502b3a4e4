import Foundation

/// Headless Chromium driven over the DevTools protocol (`--remote-debugging-pipe`: JSON messages ended by a NUL
/// byte, commands on the browser's fd 3, replies and events on its fd 4), for end-to-end tests of report pages:
/// real mouse clicks and key presses, scripts evaluated in the page, the page's uncaught exceptions collected.
///
/// ```
/// let browser = try HeadlessChromium()
/// defer { browser.close() }
/// try browser.open("file:///tmp/report.html")
/// let frame: String = try browser.evaluate("return document.title")
/// ```
public final class HeadlessChromium: @unchecked Sendable {
    public static let executable = "/usr/bin/chromium"
    public static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: executable) }

    /// What went wrong talking to the browser.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    private let process = Process()
    private let toBrowser = Pipe(), fromBrowser = Pipe()
    private let profile: String
    private let lock = NSCondition()
    private var replies: [Int: [String: Any]] = [:]
    private var events: [(method: String, params: [String: Any])] = []
    private var ended = false
    private var nextID = 0
    private var session: String? = nil

    /// Uncaught exceptions and `console.error` messages of the page, in order.
    public var pageErrors: [String] {
        lock.lock(); defer { lock.unlock() }
        return events.compactMap { e in
            if e.method == "Runtime.exceptionThrown", let d = e.params["exceptionDetails"] as? [String: Any] {
                let ex = d["exception"] as? [String: Any]
                return (ex?["description"] as? String) ?? (d["text"] as? String) ?? "exception"
            }
            if e.method == "Runtime.consoleAPICalled", e.params["type"] as? String == "error" {
                let args = e.params["args"] as? [[String: Any]] ?? []
                return "console.error: " + args.map { "\($0["value"] ?? $0["description"] ?? "")" }.joined(separator: " ")
            }
            return nil
        }
    }

    /// Starts the browser with a fresh profile and a page of `width` x `height` CSS pixels.
    /// - Parameter flags: extra command-line switches (e.g. `--allow-file-access-from-files`).
    public init(flags: [String] = [], width: Int = 1280, height: Int = 1000) throws {
        guard Self.isInstalled else { throw Failure(description: "\(Self.executable) is not installed; run scripts/setup") }
        profile = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-chromium-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        let args = ["--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--mute-audio", "--hide-scrollbars",
                    "--autoplay-policy=no-user-gesture-required", "--window-size=\(width),\(height)",
                    "--user-data-dir=\(profile)", "--remote-debugging-pipe"] + flags + ["about:blank"]
        // The shell gives the browser the two pipes as the fds 3 and 4 it expects.
        let quoted = ([Self.executable] + args).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "exec \(quoted) 3<&0 4>&1 </dev/null >/dev/null 2>/dev/null"]
        process.standardInput = toBrowser
        process.standardOutput = fromBrowser
        process.standardError = FileHandle.nullDevice
        try process.run()
        let reader = fromBrowser.fileHandleForReading
        Thread.detachNewThread { [self] in
            var buffer = Data()
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                buffer.append(chunk)
                while let nul = buffer.firstIndex(of: 0) {
                    let message = buffer.subdata(in: buffer.startIndex..<nul)
                    buffer.removeSubrange(buffer.startIndex...nul)
                    if let m = (try? JSONSerialization.jsonObject(with: message)) as? [String: Any] { deliver(m) }
                }
            }
            lock.lock(); ended = true; lock.broadcast(); lock.unlock()
        }
        let target = try call("Target.createTarget", ["url": "about:blank"], session: false)
        guard let id = target["targetId"] as? String else { throw Failure(description: "no target: \(target)") }
        let attached = try call("Target.attachToTarget", ["targetId": id, "flatten": true], session: false)
        session = attached["sessionId"] as? String
        _ = try call("Page.enable")
        _ = try call("Runtime.enable")
    }

    deinit { close() }

    private func deliver(_ m: [String: Any]) {
        lock.lock(); defer { lock.unlock() }
        if let id = m["id"] as? Int { replies[id] = m } else if let method = m["method"] as? String {
            events.append((method, m["params"] as? [String: Any] ?? [:]))
        }
        lock.broadcast()
    }

    /// Sends a DevTools command (to the page unless `session` is false) and waits for its result.
    /// - Throws: `Failure` with the browser's error, or when no reply comes within `timeout` seconds.
    @discardableResult
    public func call(_ method: String, _ params: [String: Any] = [:], session: Bool = true, timeout: Double = 30) throws -> [String: Any] {
        lock.lock()
        nextID += 1
        let id = nextID
        lock.unlock()
        var message: [String: Any] = ["id": id, "method": method, "params": params]
        if session, let s = self.session { message["sessionId"] = s }
        var bytes = try JSONSerialization.data(withJSONObject: message)
        bytes.append(0)
        do { try toBrowser.fileHandleForWriting.write(contentsOf: bytes) } catch {
            throw Failure(description: "\(method): the browser is gone (\(error))")
        }
        let deadline = Date().addingTimeInterval(timeout)
        lock.lock(); defer { lock.unlock() }
        while replies[id] == nil {
            if ended { throw Failure(description: "\(method): the browser exited") }
            if !lock.wait(until: deadline) { throw Failure(description: "\(method): no reply in \(timeout) s") }
        }
        let reply = replies.removeValue(forKey: id)!
        if let error = reply["error"] { throw Failure(description: "\(method): \(error)") }
        return reply["result"] as? [String: Any] ?? [:]
    }

    /// Loads `url` and waits for its load event.
    public func open(_ url: String, timeout: Double = 30) throws {
        lock.lock(); let seen = events.count; lock.unlock()
        try call("Page.navigate", ["url": url])
        try waitForEvent("Page.loadEventFired", after: seen, timeout: timeout)
    }

    private func waitForEvent(_ method: String, after index: Int, timeout: Double) throws {
        let deadline = Date().addingTimeInterval(timeout)
        lock.lock(); defer { lock.unlock() }
        while !events[index...].contains(where: { $0.method == method }) {
            if ended || !lock.wait(until: deadline) { throw Failure(description: "no \(method) within \(timeout) s") }
        }
    }

    /// Runs `body` as the body of an async function in the page and decodes what it returns (through JSON).
    /// - Throws: `Failure` with the page's exception, or when the result does not decode as `T`.
    public func evaluate<T: Decodable>(_ body: String, as type: T.Type = T.self, timeout: Double = 30) throws -> T {
        let expression = "(async () => { \(body) })().then(v => JSON.stringify(v === undefined ? null : v))"
        let r = try call("Runtime.evaluate", ["expression": expression, "awaitPromise": true, "returnByValue": true], timeout: timeout)
        if let ex = r["exceptionDetails"] as? [String: Any] {
            let d = (ex["exception"] as? [String: Any])?["description"] as? String
            throw Failure(description: "page script failed: \(d ?? "\(ex)")")
        }
        guard let json = (r["result"] as? [String: Any])?["value"] as? String else { throw Failure(description: "no value: \(r)") }
        do { return try JSONDecoder().decode(T.self, from: Data(json.utf8)) } catch {
            throw Failure(description: "cannot decode \(json) as \(T.self): \(error)")
        }
    }

    /// Polls `condition` (a JavaScript expression) until it is true.
    /// - Throws: `Failure` naming the condition when it stays false for `timeout` seconds.
    public func wait(until condition: String, timeout: Double = 20) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try evaluate("return !!(\(condition))", as: Bool.self) { return }
            usleep(50_000)
        }
        throw Failure(description: "still false after \(timeout) s: \(condition)")
    }

    /// A real left click at (`x`, `y`) CSS pixels of the viewport.
    public func click(x: Double, y: Double) throws {
        for type in ["mouseMoved", "mousePressed", "mouseReleased"] {
            try call("Input.dispatchMouseEvent", ["type": type, "x": x, "y": y, "button": type == "mouseMoved" ? "none" : "left", "clickCount": 1])
        }
    }

    /// Scrolls the element `selector` finds into the middle of the viewport and clicks at its centre, or at
    /// `fractionX` of its width.
    public func click(_ selector: String, fractionX: Double = 0.5) throws {
        struct Point: Decodable { var x: Double; var y: Double }
        let p = try evaluate("""
            const e = document.querySelector(\(Self.jsString(selector)));
            if (!e) throw new Error('no element ' + \(Self.jsString(selector)));
            e.scrollIntoView({block: 'center'});
            await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
            const b = e.getBoundingClientRect();
            return {x: b.left + b.width * \(fractionX), y: b.top + b.height / 2};
            """, as: Point.self)
        try click(x: p.x, y: p.y)
    }

    /// A real key press (`ArrowLeft`, `ArrowRight`, `Enter`, ...).
    public func press(_ key: String) throws {
        let codes = ["ArrowLeft": 37, "ArrowUp": 38, "ArrowRight": 39, "ArrowDown": 40, "Enter": 13]
        for type in ["rawKeyDown", "keyUp"] {
            try call("Input.dispatchKeyEvent", ["type": type, "key": key, "code": key, "windowsVirtualKeyCode": codes[key] ?? 0])
        }
    }

    /// A PNG of the viewport.
    public func screenshot() throws -> Data {
        let r = try call("Page.captureScreenshot", ["format": "png"])
        return Data(base64Encoded: r["data"] as? String ?? "") ?? Data()
    }

    /// Closes the browser and removes its profile.
    public func close() {
        if process.isRunning {
            _ = try? call("Browser.close", session: false, timeout: 5)
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { process.terminate(); process.waitUntilExit() }
        }
        try? FileManager.default.removeItem(atPath: profile)
    }

    /// `s` as a JavaScript string literal.
    public static func jsString(_ s: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: [s])
        return String(decoding: data, as: UTF8.self).dropFirst().dropLast().description
    }
}
