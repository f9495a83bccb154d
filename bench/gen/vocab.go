package gen

// The vocabulary below is read-only. Two rules keep the ground truth valid
// for both Sluice (case-insensitive tokens) and VictoriaLogs (case-sensitive
// words): the words "timeout" and "connection refused" only ever appear in
// messages, always in lower case and never glued to other word characters;
// and no field other than service holds the word "payments" as a service
// name would. The brute-force test checks both.

// Levels, in the order the ground truth counts them.
const (
	levelInfo = iota
	levelDebug
	levelWarn
	levelError
	numLevels
)

var levelNames = [numLevels]string{"info", "debug", "warn", "error"}

// appServices are the JSON-logging applications; their order is their
// popularity (see zipfWeights).
var appServices = [...]string{
	"payments", "checkout", "auth", "cart", "catalog", "search", "inventory",
	"shipping", "orders", "users", "notifications", "email", "sms",
	"recommendations", "reviews", "pricing", "billing", "invoices", "fraud",
	"ledger", "accounts", "profile", "sessions", "gateway", "media", "uploads",
	"thumbnails", "geo", "tax", "currency", "promotions", "coupons", "loyalty",
	"wishlist", "returns", "refunds", "warehouse", "fulfillment", "tracking",
	"support", "chat", "feed", "analytics", "audit", "config", "scheduler",
	"webhooks", "exports", "identity", "consent",
}

// javaServices log multi-line exceptions.
var javaServices = [...]string{"settlement", "reporting", "risk-engine"}

// syslogServices are the daemons whose syslog lines are collected.
var syslogServices = [...]string{"sshd", "cron", "kernel"}

const nginxService = "nginx"

var httpMethods = []string{"GET", "POST", "PUT", "DELETE", "PATCH"}

// httpMethodWeights favour reads, as real traffic does.
var httpMethodWeights = []float64{70, 18, 6, 3, 3}

var apiResources = []string{
	"orders", "cart", "items", "users", "sessions", "products", "invoices",
	"shipments", "reviews", "coupons", "accounts", "search", "prices",
}

var statusOK = []int{200, 200, 200, 200, 200, 200, 200, 200, 201, 204, 304}
var statusClientError = []int{400, 401, 403, 404, 404, 404, 409, 422, 429}
var statusServerError = []int{500, 500, 502, 503, 503, 504}

var upstreams = []string{
	"inventory", "pricing", "ledger", "users", "postgres", "redis", "kafka",
	"search", "tax", "fraud",
}

var userAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
	"okhttp/4.12.0",
	"curl/8.5.0",
	"kube-probe/1.31",
}

var referers = []string{"-", "-", "-", "https://shop.example.com/", "https://shop.example.com/cart"}

var javaExceptions = []string{
	"java.lang.NullPointerException: Cannot invoke \"com.example.model.Account.getId()\" because \"account\" is null",
	"java.lang.IllegalStateException: ledger entry is not balanced",
	"java.net.SocketTimeoutException: Read timed out",
	"java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available, request timed out after 30000ms",
	"java.lang.IllegalArgumentException: amount must be positive",
	"java.util.ConcurrentModificationException",
	"java.lang.OutOfMemoryError: Java heap space",
}

// javaFrames lists the application's own frames first (numAppFrames of
// them), then library frames.
var javaFrames = []string{
	"com.example.%s.service.LedgerService.post(LedgerService.java:214)",
	"com.example.%s.service.BatchProcessor.process(BatchProcessor.java:88)",
	"com.example.%s.repository.AccountRepository.findById(AccountRepository.java:57)",
	"com.example.%s.api.SettlementController.settle(SettlementController.java:131)",
	"com.example.%s.kafka.EventConsumer.onMessage(EventConsumer.java:73)",
	"com.example.%s.service.ReportBuilder.build(ReportBuilder.java:402)",
	"com.example.%s.risk.ScoringService.evaluate(ScoringService.java:142)",
	"org.springframework.aop.framework.ReflectiveMethodInvocation.proceed(ReflectiveMethodInvocation.java:184)",
	"org.springframework.transaction.interceptor.TransactionInterceptor.invoke(TransactionInterceptor.java:119)",
	"java.base/java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:1136)",
	"java.base/java.lang.Thread.run(Thread.java:1583)",
}

const numAppFrames = 7

var sshUsers = []string{"deploy", "root", "admin", "ubuntu", "git", "backup"}

var cronJobs = []string{
	"/usr/local/bin/rotate-logs.sh",
	"/usr/bin/certbot renew --quiet",
	"/opt/backup/run-backup.sh --incremental",
	"run-parts /etc/cron.hourly",
}
