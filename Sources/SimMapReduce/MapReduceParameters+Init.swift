import SimHDFS

extension MapReduceParameters {
  /// The defaults over `hdfs`: how the Lambda batch layer starts its job's.
  package init(hdfs: HDFSParameters) { self.hdfs = hdfs }
}
