// swift-tools-version:6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "Switchboard",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "switchboardd", targets: ["switchboardd"]),
        .executable(name: "switchboard-bench", targets: ["switchboard-bench"]),
        .executable(name: "switchboardctl", targets: ["switchboardctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
    ],
    targets: [
        // System libraries: libpq (Debian libpq-dev) and libcrypto (Debian libssl-dev).
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // epoll and eventfd (Linux headers, libc): Swift's Glibc module does not export them.
        .systemLibrary(name: "CEpoll"),
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),

        .target(
            name: "Postgres",
            dependencies: [
                "CLibPQ",
                "CEpoll",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // JSON values, a parser and a writer, without Foundation (webhooks; the control client).
        .target(name: "JSON", swiftSettings: strict),
        // Varlink framing, without Foundation (the control server and its client).
        .target(name: "Varlink", swiftSettings: strict),
        .target(
            name: "WhatsApp",
            dependencies: [
                "JSON",
                "COpenSSL",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "SwitchboardCore",
            dependencies: [
                .product(name: "Collections", package: "swift-collections"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "SwitchboardStore",
            dependencies: [
                "JSON",
                "Postgres",
                "SwitchboardCore",
                "COpenSSL",
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Migrations")],
            swiftSettings: strict
        ),
        .target(
            name: "SwitchboardDaemon",
            dependencies: [
                "Postgres",
                "SwitchboardCore",
                "SwitchboardStore",
                "WhatsApp",
                "JSON",
                "Varlink",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            resources: [.copy("Control/io.switchboard.Control.varlink"), .copy("Web/Assets")],
            swiftSettings: strict
        ),
        // The control client starts in a few milliseconds: no Foundation (ArgumentParser needs only
        // FoundationEssentials) and the Swift runtime linked in, so nothing is loaded at start.
        .executableTarget(
            name: "switchboardctl",
            dependencies: [
                "JSON",
                "Varlink",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict,
            // The static FoundationEssentials needs these named; lld (shipped with the toolchain) is
            // told to be quiet because glibc's link-time note on `mktemp`, used inside that library
            // and never by this tool, would otherwise be printed on every build.
            linkerSettings: [
                .unsafeFlags(["-static-stdlib", "-use-ld=lld", "-Xlinker", "--no-warnings"]),
                .linkedLibrary("_FoundationCollections"), .linkedLibrary("_FoundationCShims"), .linkedLibrary("swiftSynchronization"),
            ]
        ),
        .executableTarget(
            name: "switchboardd",
            dependencies: [
                "SwitchboardDaemon",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        // The routing simulator: replays synthetic scenarios or a recorded trace through the real
        // queue and agent actors on a virtual clock (a library, so its trace parsing and figures are tested).
        .target(
            name: "RoutingSimulation",
            dependencies: [
                "SwitchboardCore",
                "SwitchboardStore",
                "SwitchboardDaemon",
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "switchboard-bench",
            dependencies: [
                "RoutingSimulation",
                "Postgres",
                "SwitchboardCore",
                "SwitchboardStore",
                "SwitchboardDaemon",
                "WhatsApp",
                "Varlink",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),

        // Test support: one embedded cluster per test run, a fresh database per suite.
        .target(
            name: "TestSupport",
            dependencies: ["Postgres"],
            path: "Tests/TestSupport",
            swiftSettings: strict
        ),
        .testTarget(
            name: "PostgresTests",
            dependencies: ["Postgres", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "WhatsAppTests",
            dependencies: ["WhatsApp", "JSON"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SwitchboardCoreTests",
            dependencies: ["SwitchboardCore", "Varlink"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "RoutingSimulationTests",
            dependencies: ["RoutingSimulation", "SwitchboardCore"],
            resources: [.copy("Fixtures")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SwitchboardStoreTests",
            dependencies: ["SwitchboardStore", "SwitchboardCore", "Postgres", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SwitchboardDaemonTests",
            dependencies: [
                "SwitchboardDaemon", "SwitchboardCore", "SwitchboardStore", "Postgres", "TestSupport", "WhatsApp", "JSON",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: strict
        ),
    ]
)
