// swift-tools-version:6.2
import PackageDescription

let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "imagegen",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "imagegen", targets: ["imagegen"])
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", exact: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-openapi-generator.git", exact: "1.14.3"),
        .package(url: "https://github.com/apple/swift-openapi-runtime.git", exact: "1.13.4", traits: []),
        .package(url: "https://github.com/hummingbird-project/swift-openapi-hummingbird.git", exact: "2.1.0"),
    ],
    targets: [
        // C libraries, each reached through one Swift wrapper target below.
        .systemLibrary(name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "CLibpq", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),

        .target(name: "BlockingIO", swiftSettings: strict),
        .target(
            name: "RedisClient",
            dependencies: ["CHiredis", "BlockingIO", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .target(
            name: "PostgresClient",
            dependencies: ["CLibpq", "BlockingIO", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .target(name: "CurlClient", dependencies: ["CCurl"], swiftSettings: strict),

        .target(name: "ImagegenCore", dependencies: [.product(name: "Crypto", package: "swift-crypto")], swiftSettings: strict),
        .target(
            name: "ImagegenStore",
            dependencies: ["ImagegenCore", "PostgresClient", "BlockingIO", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .target(
            name: "ImagegenQueue",
            dependencies: [
                "ImagegenCore", "RedisClient", .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "ImagegenProviderGate",
            dependencies: [
                "ImagegenCore", "RedisClient", "BlockingIO", .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "ImagegenProvider",
            dependencies: ["ImagegenCore", "CurlClient"],
            swiftSettings: strict
        ),
        .target(
            name: "ImagegenWorker",
            dependencies: [
                "ImagegenCore", "ImagegenStore", "ImagegenQueue", "ImagegenProvider", "ImagegenProviderGate",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        // Logs, metrics and the health routes that the API and the workers share.
        .target(
            name: "ImagegenTelemetry",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "ImagegenAPI",
            dependencies: [
                "ImagegenCore", "ImagegenStore", "ImagegenQueue", "ImagegenProviderGate", "ImagegenTelemetry", "PostgresClient", "RedisClient",
                "BlockingIO",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
            ],
            // The API's contract: the generator's input at build time, served as it is at /openapi.json.
            resources: [.copy("openapi.json"), .copy("Console")],
            swiftSettings: strict,
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
        .target(
            name: "MockProvider",
            dependencies: [
                "ImagegenCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "imagegen",
            dependencies: [
                "ImagegenCore", "ImagegenStore", "ImagegenQueue", "ImagegenProvider", "ImagegenProviderGate", "ImagegenWorker",
                "ImagegenAPI", "ImagegenTelemetry", "MockProvider", "CurlClient", "RedisClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),

        .testTarget(
            name: "ImagegenCoreTests",
            dependencies: ["BlockingIO", "ImagegenCore", "ImagegenProvider", "ImagegenProviderGate", "ImagegenWorker", "MockProvider", "RedisClient"]
        ),
        .testTarget(
            name: "ImagegenIntegrationTests",
            dependencies: [
                "ImagegenCore", "ImagegenStore", "ImagegenQueue", "ImagegenProvider", "ImagegenProviderGate", "ImagegenWorker",
                "ImagegenAPI", "ImagegenTelemetry", "MockProvider", "CurlClient", "RedisClient", "PostgresClient",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)
