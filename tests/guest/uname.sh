# Prints the kernel release: proves the fixture reached /init.
echo "GUEST-UNAME $(uname -r)"
