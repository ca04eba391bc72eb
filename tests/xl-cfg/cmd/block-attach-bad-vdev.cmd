-N
block-attach
1
file:/x,badvdev!,w
