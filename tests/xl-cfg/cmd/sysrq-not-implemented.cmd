sysrq
1
s
