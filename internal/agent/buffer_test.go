package agent

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// A full buffer makes put wait (the reader stops) until a batch is
// acknowledged; nothing is dropped, and a restart finds what was left.
func TestBufferBackpressure(t *testing.T) {
	dir := t.TempDir()
	b, _, err := openBuffer(dir, 3000, 0)
	if err != nil {
		t.Fatal(err)
	}
	payload := bytes.Repeat([]byte("x"), 1000)
	ctx := context.Background()
	for seq := uint64(1); seq <= 2; seq++ {
		if err := b.put(ctx, &batch{Seq: seq, Output: "http", Records: 1, payload: payload}); err != nil {
			t.Fatal(err)
		}
	}
	third := &batch{Seq: 3, Output: "http", Records: 1, payload: payload}
	if !b.isFull(third) {
		t.Fatal("a third batch should not fit")
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := b.put(short, third); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("put into a full buffer: %v, want it to wait until its context ends", err)
	}
	done := make(chan error, 1)
	go func() { done <- b.put(ctx, third) }()
	first, err := b.next(ctx)
	if err != nil || first.Seq != 1 {
		t.Fatalf("next: %v %v", first, err)
	}
	if err := b.done(first); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("put after room was made: %v", err)
	}
	// A restart: batch 1 was acknowledged, 2 and 3 are left, in order.
	_, left, err := openBuffer(dir, 3000, 1)
	if err != nil || len(left) != 2 || left[0].Seq != 2 || left[1].Seq != 3 || !bytes.Equal(left[1].payload, payload) {
		t.Fatalf("left %v, %v", left, err)
	}
	// Acknowledged by the checkpoint but not removed before a crash.
	_, left, _ = openBuffer(dir, 3000, 2)
	if len(left) != 1 || left[0].Seq != 3 {
		t.Fatalf("left %v", left)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"no output", "inputs: [{type: file, paths: [x]}]", "exactly one of forward and http"},
		{"both outputs", "inputs: [{type: file, paths: [x]}]\noutput: {forward: a:1, http: 'http://a'}", "exactly one of forward and http"},
		{"unknown input type", "inputs: [{type: journald, paths: [x]}]\noutput: {forward: a:1}", `type "journald"`},
		{"bad multiline pattern", "inputs: [{type: file, paths: [x], multiline: {start: '('}}]\noutput: {forward: a:1}", "multiline.start"},
		{"unknown key", "inputs: [{type: file, paths: [x], path: y}]\noutput: {forward: a:1}", "field path not found"},
		{"route with forward", "inputs: [{type: file, paths: [x]}]\noutput: {forward: a:1}\npipeline: {processors: [{type: route, routes: [{if: '*', tenant: t}]}]}", "route needs output.http"},
		{"bad processor", "inputs: [{type: file, paths: [x]}]\noutput: {forward: a:1}\npipeline: {processors: [{type: nope}]}", "unknown processor type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
	c, err := Parse(strings.NewReader("inputs: [{type: cri, paths: ['/var/log/pods/*/*/*.log']}]\noutput: {http: 'http://sluice:9280'}"))
	if err != nil || c.Inputs[0].RotateWait != DefaultInput().RotateWait || c.Inputs[0].StartAt != "beginning" {
		t.Fatalf("defaults of an input: %+v, %v", c.Inputs, err)
	}
}
