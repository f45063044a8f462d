import SimKernel

/// Which partition a record key goes to: a stable hash of the key (the same in every run and on
/// every machine), modulo the partitions. The broker's producers and the stream model's log both
/// place keys with it, so a key lands on the same partition in both models.
package enum KeyPartitioning {
  package static func partition(ofKey key: Int, partitions: Int) -> Int {
    Int(StableHash.splitMix64(UInt64(key)) % UInt64(partitions))
  }
}
