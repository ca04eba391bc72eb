block-attach
1
file:/x,xvda,w
