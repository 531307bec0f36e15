import CHiredis

/// The entries of one XREADGROUP or XAUTOCLAIM reply, read straight off the wire: hiredis' parser hands each string
/// of the reply to `add`, which keeps the entries' ids and fields in one buffer. No reply object is allocated (a
/// reply of 100 events was ~5,700 `malloc`s as hiredis objects).
public final class StreamEntries {
    /// Every id, field name and value, back to back.
    public private(set) var bytes: [UInt8] = []
    /// Each string's place in `bytes`: per entry its id, then its field names and values alternating.
    public private(set) var spans: [Range<Int>] = []
    /// Per entry: the span of its id; its fields are the spans after it up to the next entry's id.
    public private(set) var ids: [Int] = []
    /// The error Redis answered with instead of entries.
    public private(set) var error: String?

    /// Where the entries array sits in the reply, as indices from the root: `[0, 1]` in XREADGROUP's
    /// `[[stream, entries]]`, `[1]` in XAUTOCLAIM's `[cursor, entries, deleted]`.
    let path: [Int32]

    init(path: [Int32]) { self.path = path }

    public var count: Int { ids.count }

    /// Entry `k`'s id, and the range of `spans` holding its fields (an even count: names and values).
    public func entry(_ k: Int) -> (id: Range<Int>, fields: Range<Int>) {
        let first = ids[k] + 1
        var end = k + 1 < ids.count ? ids[k + 1] : spans.count
        if (end - first) % 2 == 1 { end -= 1 }
        return (spans[ids[k]], first..<end)
    }

    /// One string of the reply: an id at `path + [entry, 0]`, a field at `path + [entry, 1, position]`, an error at
    /// the root; anything else (the stream's name, the cursor, deleted ids) is skipped.
    func add(_ task: UnsafePointer<redisReadTask>, _ text: UnsafeRawBufferPointer) {
        // The indices from the string up to the root, innermost first (hiredis nests at most 9 deep).
        var up = (Int32(0), Int32(0), Int32(0), Int32(0), Int32(0), Int32(0), Int32(0), Int32(0), Int32(0))
        var depth = 0
        withUnsafeMutableBytes(of: &up) { raw in
            let indices = raw.bindMemory(to: Int32.self)
            var node = task
            while let parent = node.pointee.parent, depth < indices.count {
                indices[depth] = node.pointee.idx
                depth += 1
                node = UnsafePointer(parent)
            }
        }
        if depth == 0 {
            if task.pointee.type == REDIS_REPLY_ERROR { error = String(decoding: text, as: UTF8.self) }
            return
        }
        let p = path.count
        guard depth == p + 2 || depth == p + 3, task.pointee.type == REDIS_REPLY_STRING else { return }
        let matches: Bool = withUnsafeBytes(of: &up) { raw in
            let indices = raw.bindMemory(to: Int32.self)
            // Level k from the root is indices[depth - 1 - k].
            for k in 0..<p where indices[depth - 1 - k] != path[k] { return false }
            let part = indices[depth - 2 - p]  // 0: the id, 1: the fields
            return depth == p + 2 ? part == 0 : part == 1 && !ids.isEmpty
        }
        guard matches else { return }
        if depth == p + 2 { ids.append(spans.count) }
        let start = bytes.count
        bytes.append(contentsOf: text)
        spans.append(start..<bytes.count)
    }
}

/// hiredis calls these instead of building `redisReply` objects while `RedisConnection.receiveEntries` reads.
/// Arrays, integers and nils are left to hiredis' built-in placeholders (no allocation); every string goes to the
/// `StreamEntries` in the reader's private data. Written once, read-only after.
nonisolated(unsafe) let streamEntryFunctions: UnsafeMutablePointer<redisReplyObjectFunctions> = {
    let functions = UnsafeMutablePointer<redisReplyObjectFunctions>.allocate(capacity: 1)
    functions.initialize(to: redisReplyObjectFunctions(
        createString: { task, text, length in
            if let task, let sink = task.pointee.privdata {
                Unmanaged<StreamEntries>.fromOpaque(sink).takeUnretainedValue()
                    .add(task, UnsafeRawBufferPointer(start: text, count: length))
            }
            // Any non-null pointer: hiredis only hands it back as the reply, which is never freed.
            return UnsafeMutableRawPointer(bitPattern: 1)
        },
        createArray: nil, createInteger: nil, createNil: nil, freeObject: nil))
    return functions
}()
