// swift-tools-version:5.10
// The EZThrottle SDK for Apple platforms. `EZThrottleFFI.xcframework` (the
// Rust library with its C header and module map) is built on a Mac by
// ../build-xcframework.sh; Sources/EZThrottle/EZThrottle.swift is generated
// by ../generate.sh (its `nonisolated(unsafe)` needs Swift 5.10), the other
// files there are hand-written.
import PackageDescription

let package = Package(
    name: "EZThrottle",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "EZThrottle", targets: ["EZThrottle"]),
    ],
    targets: [
        .binaryTarget(name: "EZThrottleFFI", path: "EZThrottleFFI.xcframework"),
        .target(
            name: "EZThrottle",
            dependencies: ["EZThrottleFFI"],
            path: "Sources/EZThrottle"
        ),
    ]
)
