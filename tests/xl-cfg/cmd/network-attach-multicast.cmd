-N
network-attach
1
mac=03:16:3e:12:34:56
