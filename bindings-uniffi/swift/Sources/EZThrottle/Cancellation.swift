// Hand-written (generate.sh leaves this file alone): Swift task cancellation
// for the SDK's calls. uniffi's generated async glue does not react to
// `Task.cancel()`, so each call takes a `CancellationToken`, and this wires
// the current task's cancellation to one.

/// Runs `body` with a token that is cancelled when the current task is:
///
/// ```swift
/// let result = try await withCancellation { token in
///     try await client.execute(step: step, cancellation: token)
/// }
/// ```
///
/// A cancelled call throws `EzThrottleError.Cancelled`, sends nothing more,
/// and the built-in transport closes the socket of the request in flight.
public func withCancellation<T>(
    _ body: (CancellationToken) async throws -> T
) async throws -> T {
    let token = CancellationToken()
    return try await withTaskCancellationHandler {
        try await body(token)
    } onCancel: {
        token.cancel()
    }
}
