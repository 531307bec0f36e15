import Crypto
import Foundation

/// A named traffic split: each visitor key is assigned to one variant by a keyed hash, the same in every replica
/// and across reloads while the split (salt and percentages) stays; shadows score the same rows off the request path.
/// Unchecked Sendable: its one non-Sendable member, the HMAC key, is immutable and only read.
public struct Route: @unchecked Sendable {
    public struct Variant: Sendable, Equatable {
        /// A model address (`NAME` or `NAME@VERSION`).
        public var model: String
        /// Share of keys in basis points (1/100 of a percent).
        public var basisPoints: Int

        public init(model: String, basisPoints: Int) {
            self.model = model
            self.basisPoints = basisPoints
        }
    }

    public let name: String
    public let variants: [Variant]
    public let shadows: [String]
    /// The key of the assignment hash, from the route's salt: a new salt reshuffles every visitor.
    private let key: SymmetricKey
    /// Cumulative basis points: variant i takes buckets below `bounds[i]` (and at or above the one before).
    private let bounds: [Int]

    public static let buckets = 10_000

    public init(name: String, salt: String, variants: [Variant], shadows: [String]) {
        self.name = name
        self.variants = variants
        self.shadows = shadows
        self.key = SymmetricKey(data: Array(salt.utf8))
        var total = 0
        bounds = variants.map { total += $0.basisPoints; return total }
    }

    /// The bucket of a visitor key in 0 ..< 10,000: the first 8 bytes of HMAC-SHA256(salt, key) as a little-endian
    /// integer, scaled by multiplication (no modulo bias).
    public func bucket<Key: DataProtocol>(of visitor: Key) -> Int {
        let mac = HMAC<SHA256>.authenticationCode(for: visitor, using: key)
        let word = mac.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        return Int(UInt64(littleEndian: word).multipliedFullWidth(by: UInt64(Self.buckets)).high)
    }

    /// Index into `variants` of the variant a visitor key is assigned to.
    public func variant<Key: DataProtocol>(for visitor: Key) -> Int {
        let b = bucket(of: visitor)
        return bounds.firstIndex { b < $0 } ?? variants.count - 1
    }
}
