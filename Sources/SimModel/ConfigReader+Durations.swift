import SimKernel

extension ConfigReader {
  /// A distribution of times read for `key` must be one of durations and not negative on average
  /// (a negative draw is taken as 0), with a mean below `maximumMean` seconds.
  package func checkDurations(_ key: String, _ d: Distribution, maximumMean: Double) throws(ConfigError) {
    do { try d.validate(as: .duration) } catch { throw self.error(key, error.message) }
    if let mean = d.mean, !(mean >= 0 && mean < maximumMean) {
      throw self.error(key, "its mean must be between 0 and \(Quantity.shortest(maximumMean)) seconds")
    }
  }
}
