import Foundation
import NIOCore
import NIOPosix
import PropensityClient
import PropensityModel
import PropensityProtocol
import PropensityScoring
import PropensityServer
import PropensityTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Many connections and clients that vanish mid-request: nothing lost for the well-behaved ones.
@Suite(.serialized) struct LoadFaultTests {
    @Test func thousandConcurrentConnections() async throws {
        let registry = ModelRegistry()
        registry.add(ServerTests.model, name: "conv")
        let server = try await ScoringServer.start(host: "127.0.0.1", port: 0, registry: registry)
        let scorer = Scorer(model: ServerTests.model)
        var clients: [PropensityClient] = []
        for _ in 0..<1000 {
            clients.append(try await PropensityClient.connect(host: "127.0.0.1", port: server.port))
        }
        // The server registers a connection when its pipeline is set up, just after the client sees it connected.
        for _ in 0..<200 where server.openConnections < 1000 { try await Task.sleep(nanoseconds: 10_000_000) }
        #expect(server.openConnections == 1000)
        let fingerprint = try await clients[0].modelInfo("conv").fingerprint
        let all = clients
        let failures = try await withThrowingTaskGroup(of: Int.self) { group in
            for (i, client) in all.enumerated() {
                group.addTask {
                    let row: [Float] = [Float(i % 90), Float(i % 2), Float(i % 7)]
                    let got = try await client.score(model: "conv", fingerprint: fingerprint, featureCount: 3, features: row)
                    return got == scorer.score(row) ? 0 : 1
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(failures == 0)
        for client in clients { try await client.close() }
        try await server.close()
    }

    @Test func clientsKilledMidRequestDoNotDisturbOthers() async throws {
        let registry = ModelRegistry()
        registry.add(ServerTests.model, name: "conv")
        let server = try await ScoringServer.start(host: "127.0.0.1", port: 0, registry: registry)
        let client = try await PropensityClient.connect(host: "127.0.0.1", port: server.port)
        let fingerprint = try await client.modelInfo("conv").fingerprint
        var request = ByteBuffer()
        let rows = [Float](repeating: 1, count: 3 * 20_000)
        RequestCodec.encode(.score(ScoreRequest(
            model: "conv", fingerprint: fingerprint, rowCount: 20_000, featureCount: 3, features: rows)), requestID: 1,
            into: &request)
        let bytes = Array(request.readableBytesView)
        let port = server.port
        let killer = Task.detached {
            for i in 0..<100 {
                // Send all or part of a large request, then reset the connection without reading the answer.
                guard let socket = try? RawSocket(port: port) else { continue }
                try? socket.send(bytes, count: i % 2 == 0 ? bytes.count : bytes.count / 3)
                socket.resetAndClose()
            }
        }
        let scorer = Scorer(model: ServerTests.model)
        for i in 0..<300 {
            let row: [Float] = [Float(i % 80), Float(i % 2), Float(i % 5)]
            let got = try await client.score(model: "conv", fingerprint: fingerprint, featureCount: 3, features: row)
            #expect(got == scorer.score(row))
        }
        await killer.value
        try await client.ping()
        try await client.close()
        try await server.close()
    }
}
