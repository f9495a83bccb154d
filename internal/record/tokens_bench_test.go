package record

import "testing"

// BenchmarkTokenKeys tokenizes the kinds of values the store indexes at
// every flush and merge (a JSON application log's message, an nginx
// access line, a Java stack frame, a syslog line, short field values),
// hashing nothing: the cost of finding, lowering and copying the tokens.
func BenchmarkTokenKeys(b *testing.B) {
	values := []string{
		"Connection refused while calling payments-api: dial tcp 10.12.4.7:8443 (attempt 3 of 5)",
		`10.1.2.3 - - [02/Dec/2026:20:30:00 +0000] "GET /api/v1/orders/123?expand=items HTTP/1.1" 200 5123 "-" "Mozilla/5.0"`,
		"\tat com.example.checkout.OrderService.placeOrder(OrderService.java:214)",
		"<34>1 2026-12-02T20:30:00Z host-17 sshd 4242 - - Failed password for invalid user admin",
		"payments", "eu-west-1", "200", "4bf92f3577b34da6a3ce929d0e0e4736",
	}
	bytes := 0
	for _, v := range values {
		bytes += len(v)
	}
	b.SetBytes(int64(bytes))
	buf := append([]byte(nil), "_msg\x00"...)
	n := 0
	for b.Loop() {
		for _, v := range values {
			buf = TokenKeys(buf, 5, v, func(key []byte) { n += len(key) })
		}
	}
	if n == 0 {
		b.Fatal("no tokens")
	}
}
