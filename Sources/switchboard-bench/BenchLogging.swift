import ArgumentParser
import Logging

/// Benchmarks log warnings and worse only: their output is the table.
func bootstrapBenchLogging() {
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = .warning
        return handler
    }
}

/// Reads `--concurrency 1,8,32` into numbers, each in `range`.
func concurrencyLevels(_ text: String, in range: ClosedRange<Int>) throws -> [Int] {
    let levels = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard !levels.isEmpty, levels.allSatisfy({ $0.map(range.contains) ?? false }) else {
        throw ValidationError("--concurrency must be a comma-separated list of numbers from \(range.lowerBound) to \(range.upperBound), got \(text)")
    }
    return levels.compactMap { $0 }
}
