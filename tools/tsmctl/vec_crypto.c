/* placeholder: replaced by the real checkers */
#include "vec.h"
int
vec_check_kdf_scp03(struct vec *v)
{
	(void)v;
	return VEC_SKIP;
}
int
vec_check_kdf_scp02(struct vec *v)
{
	(void)v;
	return VEC_SKIP;
}
int
vec_check_kcv(struct vec *v)
{
	(void)v;
	return VEC_SKIP;
}
int
vec_check_diversify(struct vec *v)
{
	(void)v;
	return VEC_SKIP;
}
