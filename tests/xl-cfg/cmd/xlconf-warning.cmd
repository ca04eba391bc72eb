-N
network-attach
1
