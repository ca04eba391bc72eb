-N
network-attach
1
mac=00:16:3e:12:34:57
