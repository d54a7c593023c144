// Java calling the generated Kotlin bindings, as an Android app written in
// Java would: no unsigned types and no suspend functions in the way. Builds
// steps, executes and submits against the sandbox ($SANDBOX_URL,
// $SANDBOX_KEY) with the blocking calls, through the built-in transport and
// a transport written in Java, verifies a signature, catches a typed
// exception. Compiled by javac and run by tests/kotlin/run.sh.
import dev.ezthrottle.BlockingHttpTransport;
import dev.ezthrottle.BuiltinHttpTransport;
import dev.ezthrottle.ClientOptions;
import dev.ezthrottle.EzThrottle;
import dev.ezthrottle.EzThrottleException;
import dev.ezthrottle.EzthrottleKt;
import dev.ezthrottle.ExecuteResult;
import dev.ezthrottle.HttpRequest;
import dev.ezthrottle.HttpResponse;
import dev.ezthrottle.IdempotentStrategy;
import dev.ezthrottle.RequestTarget;
import dev.ezthrottle.SignatureCheck;
import dev.ezthrottle.Step;
import dev.ezthrottle.StepOptions;
import dev.ezthrottle.StepType;
import dev.ezthrottle.SubmitAnswer;
import dev.ezthrottle.TransportFailure;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

public final class JavaInterop {
    private static int passed = 0;

    private static void check(boolean ok, String what) {
        if (!ok) throw new AssertionError(what);
        passed++;
    }

    /** A Java app's own transport: the built-in client, wrapped; it can refuse the gateway as unreachable. */
    private static final class Wrapped implements BlockingHttpTransport {
        private final BuiltinHttpTransport http;
        boolean refuseGateway = false;
        int sent = 0;

        Wrapped(BuiltinHttpTransport http) {
            this.http = http;
        }

        @Override
        public HttpResponse send(HttpRequest request) throws TransportFailure {
            sent++;
            if (refuseGateway && request.getTarget() == RequestTarget.GATEWAY) {
                throw new TransportFailure.Unreachable("the app is offline");
            }
            return http.send(request);
        }
    }

    /** The `X-EZThrottle-Signature` header EZThrottle sends, made here with the JDK. */
    private static String sign(String secret, long timestamp, byte[] body) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        mac.update((timestamp + ".").getBytes(StandardCharsets.UTF_8));
        return "t=" + timestamp + ",v1=" + HexFormat.of().formatHex(mac.doFinal(body));
    }

    public static void main(String[] args) throws Exception {
        String base = System.getenv("SANDBOX_URL");
        String key = System.getenv("SANDBOX_KEY");
        // Records with defaults take only the leading arguments in Java.
        ClientOptions options = new ClientOptions(key, base, base);
        try (EzThrottle client = new EzThrottle(options, null);
             Step frugal = new Step().url(base + "/upstream/status/200").method("POST").stepType(StepType.FRUGAL);
             Step performance = new Step().url(base + "/upstream/status/200").idempotentStrategy(IdempotentStrategy.UNIQUE)) {
            ExecuteResult result = client.executeBlocking(frugal);
            check(result instanceof ExecuteResult.Local, "a FRUGAL step runs here: " + result);
            ExecuteResult.Local local = (ExecuteResult.Local) result;
            check(local.getSuccess() && local.getStatusCode() == 200, "status " + local.getStatusCode());
            SubmitAnswer answer = client.submitBlocking(performance);
            check(answer.getStatus().equals("queued") && !answer.getJobId().isEmpty(), answer.getJson());
            check(client.pendingContinuations() == 0L, "no continuations");
        }

        try (BuiltinHttpTransport http = new BuiltinHttpTransport()) {
            Wrapped wrapped = new Wrapped(http);
            try (EzThrottle client = EzThrottle.withBlockingTransport(options, wrapped);
                 Step frugal = Step.withOptions(new StepOptions(base + "/upstream/status/200", "GET", null, null, StepType.FRUGAL));
                 Step performance = new Step().url(base + "/upstream/status/200").idempotentStrategy(IdempotentStrategy.UNIQUE)) {
                check(client.executeBlocking(frugal) instanceof ExecuteResult.Local, "a FRUGAL step through a Java transport");
                wrapped.refuseGateway = true;
                try {
                    client.submitBlocking(performance);
                    throw new AssertionError("a refused gateway submitted");
                } catch (EzThrottleException.Unreachable e) {
                    check(e.getMessage().contains("the app is offline") && wrapped.sent == 2, "unreachable: " + e);
                }
            }
        }

        String secret = "whsec_primary_0123456789";
        byte[] body = "{\"job_id\":\"job_1\",\"status\":\"success\"}".getBytes(StandardCharsets.UTF_8);
        long now = System.currentTimeMillis() / 1000;
        SignatureCheck valid = EzthrottleKt.verifySignature(body, sign(secret, now, body), secret, now, 300L);
        check(valid.getValid() && valid.getReason().equals("valid"), "valid: " + valid);
        SignatureCheck forged = EzthrottleKt.verifySignature(body, sign("whsec_someone_else_0000", now, body), secret, now, 300L);
        check(!forged.getValid() && forged.getReason().equals("signature_mismatch"), "forged: " + forged);

        try (Step bad = new Step()) {
            bad.url("ftp://example.com").payloadJson();
            throw new AssertionError("an ftp URL was accepted");
        } catch (EzThrottleException.Validation e) {
            check(e.getPath().equals("url") && e.getMessage().equals("invalid url: " + e.getDetail()), "refused: " + e);
        }
        System.out.println("java interop: " + passed + " passed, 0 failed");
    }
}
