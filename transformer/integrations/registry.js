// Stand-in for the task registry of an esbuild build. The esbuild plugin
// (esbuild.ts, next to this file) serves each build's registry in this file's
// place. It is a real file so that esbuild resolves the import of it by
// itself: a virtual module costs a plugin round trip per importing module,
// late in the build. Loaded any other way, it registers nothing.
export {};
