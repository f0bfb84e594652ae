/* placeholder: replaced by the real checkers */
#include "vec.h"
int
vec_check_session_scp02(struct vec *v)
{
	(void)v;
	return VEC_SKIP;
}
int
vec_check_session_scp03(struct vec *v)
{
	(void)v;
	return VEC_SKIP;
}
int
vec_check_wrap_scp02(struct vec *v)
{
	(void)v;
	return VEC_SKIP;
}
int
vec_check_wrap_scp03(struct vec *v)
{
	(void)v;
	return VEC_SKIP;
}
