// Injected by the esbuild plugin into every entry point, so each bundle holds
// the task registry. It is a file on disk rather than a virtual module because
// esbuild loads an injected file before it parses any entry point: a virtual
// one would cost two plugin round trips (resolve, load) before anything else
// could start. The data it imports is virtual, and loads while esbuild parses.
import "durable-async:registry-data";
