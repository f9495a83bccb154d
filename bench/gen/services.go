package gen

// Every service has a global index, used by the ground truth's per-service
// counters: the application services first, then nginx, the Java services
// and the syslog daemons.
const (
	nginxIndex  = len(appServices)
	javaIndex   = nginxIndex + 1
	syslogIndex = javaIndex + len(javaServices)
	numServices = syslogIndex + len(syslogServices)
)

func serviceName(i int) string {
	switch {
	case i < nginxIndex:
		return appServices[i]
	case i == nginxIndex:
		return nginxService
	case i < syslogIndex:
		return javaServices[i-javaIndex]
	default:
		return syslogServices[i-syslogIndex]
	}
}

// paymentsIndex is the service the field-equality query counts; it is the
// most popular one.
const paymentsIndex = 0
