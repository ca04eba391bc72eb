destroy
1
