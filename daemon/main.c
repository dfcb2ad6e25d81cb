/* placeholder: replaced by the core */
int main(void) { return 0; }
