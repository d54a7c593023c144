// Java calling the generated Kotlin bindings, as an Android app or a server
// written in Java would: no unsigned types and no suspend functions in the
// way. Builds steps, executes and submits against the sandbox ($SANDBOX_URL,
// $SANDBOX_KEY) with the blocking calls, through the built-in transport and
// a transport written in Java; sets the webhook secrets, receives the job's
// webhook behind the JDK's HTTP server, runs its follow-up and waits for its
// result; queues, submits a raw job, forwards with a fallback; verifies a
// signature, catches typed exceptions. Compiled by javac and run by
// tests/kotlin/run.sh.
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
import dev.ezthrottle.ForwardRequest;
import dev.ezthrottle.QueueRequestOptions;
import dev.ezthrottle.SecretInfo;
import dev.ezthrottle.TransportFailure;
import dev.ezthrottle.WebhookDelivery;
import dev.ezthrottle.WebhookEvent;
import dev.ezthrottle.WebhookReceiver;
import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
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

        webhooksWithoutCoroutines(base, key);

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

    /**
     * What a Java server does with no coroutine: set the secrets, receive the
     * job's webhook behind the JDK's HTTP server (the receiver runs the
     * job's follow-up there), wait for the result; queue, submit a raw job,
     * forward with a fallback.
     */
    private static void webhooksWithoutCoroutines(String base, String key) throws Exception {
        String run = "java-" + ProcessHandle.current().pid() + "-" + System.currentTimeMillis();
        String hookSecret = "java_interop_webhook_secret_01";
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        String hook = "http://127.0.0.1:" + server.getAddress().getPort() + "/hook";
        LinkedBlockingQueue<WebhookDelivery> handled = new LinkedBlockingQueue<>();
        try (EzThrottle client = new EzThrottle(new ClientOptions(key, base, base, null, hook), null);
             WebhookReceiver receiver = client.webhookReceiver(hookSecret, null, null)) {
            client.createWebhookSecretBlocking(hookSecret, null);
            SecretInfo info = client.getWebhookSecretBlocking();
            check(!info.getHasSecondary() && !info.getPrimarySecret().equals(hookSecret), "secrets, masked: " + info);
            server.createContext("/hook", exchange -> {
                byte[] body = exchange.getRequestBody().readAllBytes();
                try {
                    WebhookDelivery delivery = receiver.receiveBlocking(body, exchange.getRequestHeaders().getFirst("X-EZThrottle-Signature"));
                    handled.add(delivery);
                    byte[] answer = delivery.getBody().getBytes(StandardCharsets.UTF_8);
                    exchange.sendResponseHeaders(delivery.getStatus(), answer.length);
                    try (OutputStream out = exchange.getResponseBody()) {
                        out.write(answer);
                    }
                } catch (EzThrottleException e) {
                    exchange.sendResponseHeaders(500, -1);
                    exchange.close();
                }
            });
            server.start();
            String counted = "count/" + run + "-follow";
            try (Step followUp = new Step().url(base + "/upstream/" + counted).stepType(StepType.FRUGAL);
                 Step step = new Step().url(base + "/upstream/status/200").idempotentStrategy(IdempotentStrategy.UNIQUE).onSuccess(followUp)) {
                ExecuteResult executed = client.executeBlocking(step);
                check(executed instanceof ExecuteResult.Submitted, "submitted: " + executed);
                ExecuteResult.Submitted submitted = (ExecuteResult.Submitted) executed;
                String jobId = submitted.getAnswer().getJobId();
                WebhookEvent event = client.waitForResultBlocking(jobId, 20_000L);
                check(event.getJobId().equals(jobId) && event.getSucceeded(), "the result: " + event);
                WebhookDelivery delivery = handled.poll(20, TimeUnit.SECONDS);
                // The receiver ran the follow-up, or execute did when the
                // webhook beat the submit's answer home (it is in its trace).
                boolean ranInExecute = submitted.getTrace().contains(counted);
                check(delivery != null && delivery.getStatus() == 200
                        && (delivery.getFollowUp() instanceof ExecuteResult.Local) != ranInExecute, "delivery: " + delivery);
                check(client.waitForResultBlocking(jobId, 0L).equals(event), "a late wait ends at once");
            }
            try {
                client.waitForResultBlocking("job-that-never-ran", 100L);
                throw new AssertionError("a wait for no job ended");
            } catch (EzThrottleException.Unreachable e) {
                check(e.getKind().equals("timeout") && e.getMessage().contains("job-that-never-ran"), "timed out: " + e);
            }

            String jobJson = "{\"url\":\"" + base + "/upstream/status/200\",\"idempotent_key\":\"" + run + "-raw\"}";
            check(client.submitJobJsonBlocking(jobJson).getStatus().equals("queued"), "a raw job");
            // A run's own URL: the legacy call's key is a hash of the request.
            QueueRequestOptions legacy = new QueueRequestOptions(base + "/upstream/status/200?run=" + run, base + "/receiver/" + run + "-legacy",
                    null, List.of(), null, null, null);
            SubmitAnswer queued = client.queueRequestBlocking(legacy);
            check(queued.getStatus().equals("queued"), "the legacy call: " + queued.getJson());
            ForwardRequest forward = new ForwardRequest(base + "/upstream/status/200", "POST", List.of(), "{}", run + "-forward",
                    null, List.of(), List.of());
            check(client.forwardOrFallbackBlocking(forward) != null, "the service is up: forwarded");
            try (EzThrottle down = new EzThrottle(new ClientOptions(key, "http://127.0.0.1:9", null, 2000L, null), null)) {
                check(down.forwardOrFallbackBlocking(forward) == null, "unreachable: the caller falls back");
            }
            client.rotateWebhookSecretBlocking("java_interop_webhook_secret_02", hookSecret);
            check(client.getWebhookSecretBlocking().getHasSecondary(), "rotation keeps the old secret as secondary");
            client.deleteWebhookSecretBlocking();
            try {
                client.getWebhookSecretBlocking();
                throw new AssertionError("deleted secrets were read");
            } catch (EzThrottleException.SecretsNotConfigured e) {
                passed++;
            }
        } finally {
            server.stop(0);
        }
    }
}
