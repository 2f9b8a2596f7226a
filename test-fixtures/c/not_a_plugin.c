/* Test fixture: a valid shared library that is not a Zoryx plugin. */
int not_a_plugin_answer(void) { return 42; }
int not_a_plugin_add(int a, int b) { return a + b; }
