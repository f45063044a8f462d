import Foundation
import SimKernel
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The documented ranges of quantities and distributions, and the conversions of draws.
@Suite struct LimitsTests {
  @Test func everyKindStopsAtItsDocumentedTop() throws {
    #expect(try Quantity.parse("1G/s", as: .rate) == 1e9)
    #expect(throws: ValueError.self) { _ = try Quantity.parse("1.000001G/s", as: .rate) }
    #expect(throws: ValueError.self) { _ = try Quantity.parse("1e300/s", as: .rate) }
    #expect(try Quantity.parse("1024PiB", as: .size) == 1_152_921_504_606_846_976)
    #expect(throws: ValueError.self) { _ = try Quantity.parse("1025PiB", as: .size) }
    #expect(try Quantity.parse("1PB/s", as: .bandwidth) == 1e15)
    #expect(try Quantity.parse("8000Tbps", as: .bandwidth) == 1e15)
    #expect(throws: ValueError.self) { _ = try Quantity.parse("1.1PB/s", as: .bandwidth) }
    // A finite number times its unit that overflows to infinity is refused, not passed on.
    #expect {
      _ = try Quantity.parse("1e300GB/s", as: .bandwidth)
    } throws: { error in
      (error as? ValueError)?.message.contains("more than the largest, 1PB/s") == true
    }
  }

  @Test func aReaderNarrowsAQuantityOrADurationToItsKeysRange() throws {
    let node = ConfigNode.mapping([("link", .scalar("10Gbps")), ("wait", .scalar("2h"))])
    var reader = try ConfigReader(node, path: "p")
    #expect(try reader.quantity("link", .bandwidth, range: 1...2e9) == 1.25e9)
    #expect(throws: ConfigError.self) { _ = try reader.quantity("link", .bandwidth, range: 1...1e9) }
    #expect(try reader.duration("wait", range: .zero...SimTime.seconds(7200)) == .seconds(7200))
    #expect {
      _ = try reader.duration("wait", range: .zero...SimTime.seconds(3600))
    } throws: { error in
      guard let error = error as? ConfigError else { return false }
      return error.keyPath == "p.wait" && error.message == "2h is out of range: expected 0s to 1h"
    }
  }

  @Test func aDrawBeyondTheClockSaturatesInsteadOfTrapping() {
    #expect(SimTime(seconds: .infinity) == .max)
    #expect(SimTime(seconds: 1e300) == .max)
    #expect(SimTime(seconds: .nan) == .zero)
    #expect(SimTime(seconds: -1) == .zero)
    // Unvalidated on purpose: e^20 s median, sigma 10, so about 38% of draws exceed 292 years.
    let wild = Distribution.lognormal(mu: 20, sigma: 10)
    let stream = RandomStream(seed: 7)
    var saturated = 0
    for _ in 0..<10_000 {
      let time = wild.sampleTime(stream)
      #expect(time >= .zero)
      if time == .max { saturated += 1 }
    }
    #expect(saturated > 3_000 && saturated < 4_600)
  }

  @Test func spreadAndShapeParametersAreBounded() throws {
    #expect(throws: ValueError.self) { _ = try Distribution.parse("lognormal(median: 5ms, sigma: 1e6)", as: .duration) }
    #expect(throws: ValueError.self) {
      _ = try Distribution.parse("lognormal(median: 1ns, sigma: 10.5)", as: .duration)
    }
    _ = try Distribution.parse("lognormal(median: 1ns, sigma: 4)", as: .duration)
    #expect(throws: ValueError.self) { _ = try Distribution.parse("pareto(shape: 0.05, scale: 1ms)", as: .duration) }
    #expect(throws: ValueError.self) { _ = try Distribution.parse("weibull(shape: 2e6, scale: 1ms)", as: .duration) }
    #expect(throws: ValueError.self) { _ = try Distribution.parse("erlang(k: 2000000, mean: 1s)", as: .duration) }
    // The 99.9999th percentile of an exponential is 13.8 means: 20 years passes, 100 do not.
    _ = try Distribution.parse("exp(mean: 7300d)", as: .duration)
    #expect {
      _ = try Distribution.parse("exp(mean: 36500d)", as: .duration)
    } throws: { error in
      (error as? ValueError)?.message.contains("99.9999th percentile") == true
    }
    // A rate whose mean gap is beyond the clock.
    #expect(throws: ValueError.self) { _ = try Distribution.parse("exp(rate: 1e-300/s)", as: .duration) }
    #expect(abs(Distribution.exponential(mean: 1).highQuantile - log(1e6)) < 1e-12)
    #expect(abs(Distribution.pareto(shape: 2, scale: 1).highQuantile - 1000) < 1e-9)
  }

  @Test func mixtureWeightsMustSumToOne() throws {
    #expect {
      _ = try Distribution.parse("mixture(0.2 * exp(1ms), 0.1 * exp(2ms))", as: .duration)
    } throws: { error in
      (error as? ValueError)?.message == "mixture: the weights sum to 0.3, not 1"
    }
    #expect(throws: ValueError.self) {
      _ = try Distribution.parse("mixture(9 * exp(1ms), 1 * exp(2ms))", as: .duration)
    }
    // Rounding in written decimals is allowed.
    _ = try Distribution.parse("mixture(0.333333 * exp(1ms), 0.333333 * exp(2ms), 0.333334 * exp(3ms))", as: .duration)
    _ = try Distribution.parse("mixture(0.9122 * exp(1ms), 0.0878 * exp(2ms))", as: .duration)
  }
}

/// Empirical distributions read only regular files of bounded size and sample count.
@Suite struct EmpiricalFileTests {
  func directory(_ name: String) -> String {
    let path = NSTemporaryDirectory() + "bdsim-limits-\(name)-\(getpid())"
    try? FileManager.default.removeItem(atPath: path)
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }

  func refusal(_ path: String) -> String? {
    do {
      _ = try Distribution.parse("empirical(file: \"\(path)\")", as: .duration)
      return nil
    } catch { return error.message }
  }

  @Test func aDeviceIsRefusedWithoutReadingIt() {
    #expect(refusal("/dev/zero") == "empirical: '/dev/zero' is a device, not a file of samples")
  }

  @Test func aFIFOIsRefusedWithoutWaitingForAWriter() {
    let path = directory("fifo") + "/samples"
    #expect(mkfifo(path, 0o600) == 0)
    #expect(refusal(path) == "empirical: '\(path)' is a FIFO, not a file of samples")
  }

  @Test func aDirectoryIsRefused() {
    let path = directory("dir")
    #expect(refusal(path) == "empirical: '\(path)' is a directory, not a file of samples")
  }

  @Test func aFileOverFourMebibytesIsRefusedBeforeItIsRead() throws {
    let path = directory("large") + "/samples.csv"
    #expect(FileManager.default.createFile(atPath: path, contents: Data("1ms\n".utf8)))
    // A sparse file one byte over the limit: refused by its size, not by its (zero) contents.
    #expect(truncate(path, off_t(EmpiricalSamples.maximumFileSize + 1)) == 0)
    #expect(refusal(path) == "empirical: '\(path)' is larger than 4 MiB")
  }

  @Test func aFileOfMoreThanAHundredThousandSamplesIsRefused() throws {
    let path = directory("many") + "/samples.csv"
    let text = String(repeating: "0,", count: Distribution.maximumEmpiricalSamples + 1)
    #expect(FileManager.default.createFile(atPath: path, contents: Data(text.utf8)))
    #expect(refusal(path) == "empirical: '\(path)' holds more than 100000 samples")
  }

  @Test func aRegularFileIsReadByLinesAndCommas() throws {
    let path = directory("ok") + "/samples.csv"
    #expect(FileManager.default.createFile(atPath: path, contents: Data("latency\n1ms, 2ms\n# note\n\n3ms".utf8)))
    #expect(try Distribution.parse("empirical(file: \"\(path)\")", as: .duration) == .empirical([0.001, 0.002, 0.003]))
  }
}
