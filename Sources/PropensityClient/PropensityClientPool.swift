import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import PropensityProtocol
import Synchronization

/// A few connections to one scorer, used in turn, each reconnected when it is lost.
///
/// A request goes out on the next connection (round robin); each connection pipelines whatever it is given. When a
/// connection drops, the requests in flight on it fail with `ClientError.connectionClosed`: they may have been
/// scored, so they are reported to the caller and never resent. The next request that lands on that connection
/// reconnects it; while the server stays unreachable, a connection retries at most once per `reconnectDelay` and
/// fails fast with the last error in between, so an outage does not turn into a connection storm.
public final class PropensityClientPool: ScoringConnection, Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// Connections kept open (a handful is plenty: each one pipelines).
        public var connections = 2
        /// Sent in AUTH on every (re)connection when set.
        public var token: [UInt8]? = nil
        public var tls: NIOSSLContext? = nil
        public var maxFrameBytes = WireProtocol.defaultMaxFrameBytes
        /// How long a request waits for its answer.
        public var requestTimeout: TimeAmount = .seconds(30)
        /// Least time between two connection attempts of one connection.
        public var reconnectDelay: TimeAmount = .milliseconds(250)

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
    }

    public let configuration: Configuration
    private let slots: [Slot]
    private let turn = Atomic<Int>(0)
    private let group: EventLoopGroup

    /// A pool that connects lazily, on each connection's first request (or `connectAll()`).
    /// - Parameters:
    ///   - configuration: where to connect, how many connections, token, TLS and timeouts.
    ///   - group: the event loops the connections run on.
    public init(_ configuration: Configuration, group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        precondition(configuration.connections > 0, "a pool needs at least one connection")
        self.configuration = configuration
        self.group = group
        slots = (0..<configuration.connections).map { _ in Slot() }
    }

    /// Connections currently open.
    public var openConnections: Int { slots.count(where: { $0.isConnected }) }

    /// Sends one request on the next connection in turn, (re)connecting it first if needed.
    /// - Parameters:
    ///   - request: the request.
    ///   - timeout: how long to wait for the answer; nil uses `configuration.requestTimeout`.
    /// - Throws: as `PropensityClient.send` does, and the connection error while that connection cannot be
    ///   (re)established (retried at most once per `reconnectDelay`).
    public func send(_ request: Request, timeout: TimeAmount? = nil) async throws -> Response {
        let index = turn.add(1, ordering: .relaxed).oldValue % slots.count
        let client = try await slots[index].client(configuration: configuration, group: group)
        return try await client.send(request, timeout: timeout ?? configuration.requestTimeout)
    }

    /// Opens every connection now rather than on first use; throws the first connection error.
    public func connectAll() async throws {
        for slot in slots { _ = try await slot.client(configuration: configuration, group: group) }
    }

    public func close() async {
        for slot in slots { await slot.close() }
    }
}

/// One connection of a pool and its state; callers that find it disconnected share one connection attempt.
private final class Slot: Sendable {
    private enum State {
        case idle(lastAttempt: NIODeadline?, lastError: (any Error)?)
        case connecting(EventLoopFuture<PropensityClient>)
        case connected(PropensityClient)
        case closed
    }

    private let state = NIOLockedValueBox(State.idle(lastAttempt: nil, lastError: nil))

    var isConnected: Bool {
        state.withLockedValue { if case .connected(let client) = $0 { client.isConnected } else { false } }
    }

    func client(configuration: PropensityClientPool.Configuration, group: EventLoopGroup) async throws -> PropensityClient {
        enum Next {
            case ready(PropensityClient)
            case wait(EventLoopFuture<PropensityClient>)
            case fail(any Error)
            case connect(EventLoopPromise<PropensityClient>)
        }
        let now = NIODeadline.now()
        let next = state.withLockedValue { state -> Next in
            switch state {
            case .connected(let client) where client.isConnected:
                return .ready(client)
            case .connecting(let future):
                return .wait(future)
            case .closed:
                return .fail(ClientError.connectionClosed)
            case .idle(let lastAttempt?, let lastError?) where now - lastAttempt < configuration.reconnectDelay:
                return .fail(lastError)
            case .idle, .connected:
                let promise = group.next().makePromise(of: PropensityClient.self)
                state = .connecting(promise.futureResult)
                return .connect(promise)
            }
        }
        switch next {
        case .ready(let client):
            return client
        case .wait(let future):
            return try await future.get()
        case .fail(let error):
            throw error
        case .connect(let promise):
            do {
                let client = try await PropensityClient.connect(
                    host: configuration.host, port: configuration.port, token: configuration.token,
                    maxFrameBytes: configuration.maxFrameBytes, tls: configuration.tls, group: group)
                let kept = state.withLockedValue { state -> Bool in
                    guard case .connecting = state else { return false }  // the pool was closed meanwhile
                    state = .connected(client)
                    return true
                }
                guard kept else {
                    try? await client.close()
                    promise.fail(ClientError.connectionClosed)
                    throw ClientError.connectionClosed
                }
                promise.succeed(client)
                return client
            } catch {
                state.withLockedValue { state in
                    if case .connecting = state { state = .idle(lastAttempt: now, lastError: error) }
                }
                promise.fail(error)
                throw error
            }
        }
    }

    func close() async {
        let previous = state.withLockedValue { state -> State in
            defer { state = .closed }
            return state
        }
        switch previous {
        case .connected(let client): try? await client.close()
        case .connecting(let future): try? await future.get().close()
        case .idle, .closed: break
        }
    }
}
