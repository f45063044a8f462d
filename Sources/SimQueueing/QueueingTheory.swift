import SimKernel

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Closed-form results of queueing theory: what the queueing model must reproduce.
///
/// λ is the arrival rate and μ the service rate of one server (per second); times in seconds.
/// Formulas that need a steady state refuse a utilisation of 1 or more.
public enum QueueingTheory {
  static func requireStable(_ lambda: Double, _ mu: Double, servers c: Int) throws(ValueError) {
    guard lambda > 0, lambda.isFinite else {
      throw ValueError("arrival rate must be > 0, got \(lambda)", key: "lambda")
    }
    guard mu > 0, mu.isFinite else { throw ValueError("service rate must be > 0, got \(mu)", key: "mu") }
    guard c >= 1 else { throw ValueError("servers must be >= 1, got \(c)", key: "servers") }
    let rho = lambda / (Double(c) * mu)
    guard rho < 1 else {
      throw ValueError(
        "utilisation λ/(cμ) = \(rho) >= 1: the queue grows without bound and has no steady state", key: "lambda",
        hint: "lower the arrival rate or add servers")
    }
  }

  /// Erlang's C formula: the probability that an arrival waits in an M/M/c queue.
  public static func erlangC(servers c: Int, offeredLoad a: Double) -> Double {
    // From Erlang B by the standard identity, which is numerically stable for large c.
    let b = erlangB(servers: c, offeredLoad: a)
    let rho = a / Double(c)
    return b / (1 - rho * (1 - b))
  }

  /// Erlang's B formula: the blocking probability of M/M/c/c (computed by the stable recursion).
  public static func erlangB(servers c: Int, offeredLoad a: Double) -> Double {
    var b = 1.0
    for k in stride(from: 1, through: c, by: 1) {
      b = a * b / (Double(k) + a * b)
    }
    return b
  }

  /// M/M/c mean waiting time in the queue (before service).
  public static func mmcMeanWait(lambda: Double, mu: Double, servers c: Int) throws(ValueError) -> Double {
    try requireStable(lambda, mu, servers: c)
    return erlangC(servers: c, offeredLoad: lambda / mu) / (Double(c) * mu - lambda)
  }

  /// M/M/c mean response time (waiting plus service).
  public static func mmcMeanResponse(lambda: Double, mu: Double, servers c: Int) throws(ValueError) -> Double {
    try mmcMeanWait(lambda: lambda, mu: mu, servers: c) + 1 / mu
  }

  /// M/M/c mean number waiting (Lq), by Little's law.
  public static func mmcMeanQueueLength(lambda: Double, mu: Double, servers c: Int) throws(ValueError) -> Double {
    lambda * (try mmcMeanWait(lambda: lambda, mu: mu, servers: c))
  }

  /// The p-quantile of M/M/1 response time, which is Exp(μ - λ).
  public static func mm1ResponseQuantile(lambda: Double, mu: Double, probability p: Double) throws(ValueError) -> Double
  {
    try requireStable(lambda, mu, servers: 1)
    return -log(1 - p) / (mu - lambda)
  }

  /// M/G/1 mean waiting time (Pollaczek–Khinchine): λ E[S²] / (2 (1 - ρ)).
  ///
  /// `serviceSCV` is the squared coefficient of variation of service (0 for M/D/1, 1 for M/M/1).
  public static func mg1MeanWait(lambda: Double, meanService: Double, serviceSCV: Double) throws(ValueError) -> Double {
    try requireStable(lambda, 1 / meanService, servers: 1)
    let rho = lambda * meanService
    let secondMoment = meanService * meanService * (1 + serviceSCV)
    return lambda * secondMoment / (2 * (1 - rho))
  }

  /// M/M/c/c blocking probability (Erlang B); no steady-state condition is needed.
  public static func lossProbability(lambda: Double, mu: Double, servers c: Int) throws(ValueError) -> Double {
    guard lambda > 0, mu > 0, c >= 1 else {
      throw ValueError("need λ > 0, μ > 0 and c >= 1 (got λ=\(lambda), μ=\(mu), c=\(c))")
    }
    return erlangB(servers: c, offeredLoad: lambda / mu)
  }

  /// Mean end-to-end response of a Jackson network of single-class M/M/c stations in series
  /// (each sees Poisson arrivals at rate λ, by Burke's theorem).
  public static func tandemMeanResponse(lambda: Double, stations: [(mu: Double, servers: Int)]) throws(ValueError)
    -> Double
  {
    var total = 0.0
    for station in stations {
      total += try mmcMeanResponse(lambda: lambda, mu: station.mu, servers: station.servers)
    }
    return total
  }
}
