-N
network-attach
1
untrusted
mac=00:16:3e:12:34:58
