import ArgumentParser

@main
struct SwitchboardBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard-bench",
        abstract: "Benchmarks of Switchboard's hot paths, each beside a baseline measured in the same run.",
        subcommands: [PostgresInsertBenchmark.self, WebhookIngestBenchmark.self, RoutingBenchmark.self, SimulateCommand.self, SLABenchmark.self, ControlBenchmark.self,
                      APIBenchmark.self, BIBenchmark.self, SoakBenchmark.self, MediaBenchmark.self, WebBenchmark.self, FailoverBenchmark.self,
                      RestartBenchmark.self]
    )
}
