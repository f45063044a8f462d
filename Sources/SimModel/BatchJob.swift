/// A batch model's job run as one part of a larger model (a Lambda batch view, an ETL
/// transform): it runs to its end and then tells `onEnd` (true: done, false: failed) in place of
/// stopping the run. The MapReduce and Spark models' jobs are ones.
package protocol BatchJob: AnyObject {
  var onEnd: ((Bool) -> Void)? { get set }
  /// CPU work its tasks asked for.
  var cpuWork: Double { get }
  /// Bytes its tasks read from HDFS.
  var bytesRead: Double { get }
}
