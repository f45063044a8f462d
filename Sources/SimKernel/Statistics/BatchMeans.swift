/// A confidence interval for a steady-state mean from one long run, by the method of batch means.
///
/// Successive observations are grouped into batches whose means are nearly independent when
/// batches are long compared with the correlation time. The batch size doubles as data arrives
/// (between `batches` and `2 x batches` full batches are kept), so memory stays fixed and the
/// run length need not be known in advance.
///
/// - Precondition: (of ``init(batches:)``) at least two batches.
public struct BatchMeans: Sendable {
  /// The least number of complete batches kept once there are enough observations (`batches` of ``init(batches:)``).
  public let targetBatches: Int
  /// Observations per batch now: 1, then doubled each time the batches reach twice ``targetBatches``.
  public private(set) var batchSize = 1
  private var sums: [Double] = []
  private var current = 0.0
  private var inCurrent = 0
  /// Observations added since the start or the last ``reset()``, the unfinished batch included.
  public private(set) var count = 0

  /// `batches` is the least number of batches the interval is formed from (20 to 30 is usual).
  public init(batches: Int = 20) {
    precondition(batches >= 2, "batch means needs at least two batches")
    targetBatches = batches
    sums.reserveCapacity(2 * batches)
  }

  /// Adds one observation, in the order they occurred (batch means assume a time-ordered series).
  ///
  /// - Complexity: O(1) amortised; O(``targetBatches``) when the batches are merged.
  public mutating func add(_ x: Double) {
    count += 1
    current += x
    inCurrent += 1
    guard inCurrent == batchSize else { return }
    sums.append(current)
    current = 0
    inCurrent = 0
    if sums.count == 2 * targetBatches {
      // Merge neighbours: half as many batches, twice as long.
      sums = stride(from: 0, to: sums.count, by: 2).map { sums[$0] + sums[$0 + 1] }
      batchSize *= 2
    }
  }

  /// The means of the complete batches.
  public var batchMeanValues: [Double] { sums.map { $0 / Double(batchSize) } }

  /// The interval over complete batches (observations in the unfinished batch are left out).
  public func confidenceInterval(level: Double = 0.95) -> ConfidenceInterval {
    ConfidenceInterval(samples: batchMeanValues, level: level)
  }

  /// Forgets every observation (the end of a warm-up period).
  public mutating func reset() { self = BatchMeans(batches: targetBatches) }
}
