/// A batch model's job run as one part of a larger model (a Lambda batch view, an ETL
/// transform): it runs to its end and then tells `onEnd` (true: done, false: failed) in place of
/// stopping the run. The MapReduce and Spark models' jobs are ones.
package protocol BatchJob: AnyObject {
  var onEnd: ((Bool) -> Void)? { get set }
  /// CPU work its tasks asked for.
  var cpuWork: Double { get }
  /// Bytes its tasks read from HDFS.
  var bytesRead: Double { get }
  /// Lets go of it once it has ended: the simulator, the platform and the fluid model no longer
  /// hold it (its activities still running end unheard), so a run of many jobs keeps none that
  /// are over. Called from another entity's event, never from inside `onEnd`.
  func retire()
}
