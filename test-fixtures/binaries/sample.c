/* The code in every sample binary (see make.sh): one exported function, and with -DEXECUTABLE
 * an entry point that calls it. No system library is used. */

#if defined(_WIN32)
#define EXPORT __declspec(dllexport)
#else
#define EXPORT __attribute__((visibility("default")))
#endif

EXPORT int sample_answer(int x) { return x * 6 + 42; }

#ifdef EXECUTABLE
int sample_main(void) { return sample_answer(0); }
#endif
