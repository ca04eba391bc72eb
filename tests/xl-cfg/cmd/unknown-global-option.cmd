-x
list
