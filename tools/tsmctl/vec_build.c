/* placeholder: replaced by the real checkers */
#include "vec.h"
int
vec_check_build_sd_params(struct vec *v)
{
	(void)v;
	return VEC_SKIP;
}
int
vec_check_build_uicc_params(struct vec *v)
{
	(void)v;
	return VEC_SKIP;
}
int
vec_check_build_sim_params(struct vec *v)
{
	(void)v;
	return VEC_SKIP;
}
int
vec_check_token_data(struct vec *v)
{
	(void)v;
	return VEC_SKIP;
}
int
vec_check_token_dm(struct vec *v)
{
	(void)v;
	return VEC_SKIP;
}
int
vec_check_storedata_keys(struct vec *v)
{
	(void)v;
	return VEC_SKIP;
}
int
vec_check_keyenc_scp02(struct vec *v)
{
	(void)v;
	return VEC_SKIP;
}
int
vec_check_keyenc_scp03(struct vec *v)
{
	(void)v;
	return VEC_SKIP;
}
