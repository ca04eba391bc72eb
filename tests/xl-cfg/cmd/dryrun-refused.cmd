-N
list
