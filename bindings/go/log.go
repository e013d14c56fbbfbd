package cbir

/*
#include <stdint.h>
#include <cbir.h>

void cbir_go_log(void* user, int32_t level, const char* message); // log.c

// The user pointer carries a cgo.Handle (an integer), never a Go pointer.
static void cbir_go_set_log(uintptr_t handle, int32_t min_level) {
	cbir_set_log_callback(handle ? cbir_go_log : NULL, (void*)handle, min_level);
}
*/
import "C"

import (
	"runtime/cgo"
	"sync"
)

// LogLevel says how serious a log message is (CBIR_LOG_*).
type LogLevel int

const (
	LogDebug LogLevel = iota
	LogInfo
	LogWarn
	LogError
)

// LogHandler receives the library's diagnostics.
type LogHandler func(level LogLevel, message string)

var (
	logMu     sync.Mutex
	logHandle cgo.Handle // the installed handler; 0 when none
)

// SetLogHandler sends the library's messages at minLevel and above to handler, replacing the
// handler installed before; nil removes it (messages are dropped again). The handler may be
// called from the library's own threads, several at once, so it must be safe for concurrent
// use; it must not call SetLogHandler. A panic in it is recovered and the message dropped.
func SetLogHandler(minLevel LogLevel, handler LogHandler) {
	logMu.Lock()
	defer logMu.Unlock()
	var h cgo.Handle
	if handler != nil {
		h = cgo.NewHandle(handler)
	}
	// cbir_set_log_callback waits for calls in flight, so the old handle is unused after it.
	C.cbir_go_set_log(C.uintptr_t(h), C.int32_t(minLevel))
	if logHandle != 0 {
		logHandle.Delete()
	}
	logHandle = h
}

func goLog(handle uintptr, level int, message string) {
	defer func() { _ = recover() }() // a panic must not unwind into C
	cgo.Handle(handle).Value().(LogHandler)(LogLevel(level), message)
}
